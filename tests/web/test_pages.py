"""Every client page renders with real data; forms keep input and explain bad values."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from bots.forms import BotTuningForm
from bots.models import Alert, Bot, RiskTemplate
from bots.services.tuning import bot_create
from demo.perf_data import seed_history
from tests.factories import TEST_PASSWORD, reauthenticate

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot(owner) -> Bot:
    template = RiskTemplate.objects.get(slug="moderate")
    return bot_create(
        tenant=owner.tenant,
        template=template,
        name="Trend BTC",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot


@pytest.fixture
def browser(owner_client: Client) -> Client:
    """The owner, signed in."""
    return owner_client


PAGES = [
    "portal:dashboard",
    "portal:dashboard_live",
    "portal:performance",
    "portal:history",
    "portal:activity",
    "portal:notifications",
    "portal:bot_new",
    "portal:keys",
    "portal:team",
    "portal:security",
    "portal:audit",
]


def test_every_page_renders_with_history(browser, bot):
    seed_history(bot=bot, orders=200, days=30)
    Alert.objects.create(tenant=bot.tenant, bot=bot, kind="test", message="Loss above threshold")
    for name in PAGES:
        response = browser.get(reverse(name))
        assert response.status_code == 200, (name, response.status_code)
    page = browser.get(reverse("portal:dashboard")).content.decode()
    assert "Trend BTC" in page and "Loss above threshold" in page and 'id="emergency-stop"' in page
    for range_key in ("1d", "1w", "1m", "3m", "1y", "all"):
        response = browser.get(reverse("portal:performance"), {"range": range_key})
        assert response.status_code == 200, range_key
        assert response.context["result"].trade_metrics.trades > 0
    assert browser.get(reverse("portal:bot_tuning", args=[bot.pk])).status_code == 200


def test_bad_settings_show_errors_and_keep_what_was_typed(browser, bot):
    before = bot.risk_per_trade
    response = browser.post(
        reverse("portal:bot_tuning_save", args=[bot.pk]),
        {"risk_per_trade": "90", "max_position_multiple": "abc", "check": "1"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="90"' in page and 'value="abc"' in page
    bot.refresh_from_db()
    assert bot.risk_per_trade == before  # 90 % refused, nothing saved


def _settings_post(bot: Bot, **changes: str) -> dict[str, str]:
    """What the settings form posts: every input with its current value, plus ``changes``."""
    form = BotTuningForm(bot=bot)
    data = {name: str(field.initial) for name, field in form.fields.items() if not field.disabled}
    return {**data, **changes}


def _age_authentication(client: Client) -> None:
    """Make the sign-in an hour old, as if the client had been on the page for a while."""
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] -= 3600
    session.save()


def test_raising_risk_asks_for_the_password_then_saves_what_was_typed(browser, bot, owner):
    _age_authentication(browser)
    url = reverse("portal:bot_tuning_save", args=[bot.pk])
    highest = Decimal(bot.template.bounds["risk_per_trade"][1])
    higher = str(highest * 100)  # typed as a percentage
    response = browser.post(url, _settings_post(bot, risk_per_trade=higher, save="1"))
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    bot.refresh_from_db()
    assert bot.risk_per_trade != highest  # nothing saved yet
    # The password again: allauth replays the suspended form, which now saves.
    response = browser.post(response["Location"], {"password": TEST_PASSWORD})
    bot.refresh_from_db()
    assert bot.risk_per_trade == highest, response.status_code


def test_lowering_risk_saves_without_asking_again(browser, bot):
    _age_authentication(browser)
    lowest = Decimal(bot.template.bounds["risk_per_trade"][0])
    lower = str(lowest * 100)
    response = browser.post(
        reverse("portal:bot_tuning_save", args=[bot.pk]),
        _settings_post(bot, risk_per_trade=lower, save="1"),
    )
    assert response.status_code == 302 and "/settings/" in response["Location"]
    bot.refresh_from_db()
    assert bot.risk_per_trade == lowest


def test_forms_keep_input_and_say_what_is_wrong(browser, bot):
    reauthenticate(browser)  # a live bot and a webhook change need a fresh password
    new = browser.post(reverse("portal:bot_new"), {"name": "", "symbol": "BTCUSDT", "mode": "live"})
    page = new.content.decode()
    assert new.status_code == 400 and "A live bot needs one of your exchange keys." in page
    history = browser.get(
        reverse("portal:history"),
        {"date_from": "2026-05-02", "date_to": "2026-05-01", "symbol": "ETH"},
    )
    page = history.content.decode()
    assert "The end date is before the start date." in page and 'value="ETH"' in page
    alerts = browser.post(
        reverse("portal:notifications_save"),
        {"webhook_url": "http://example.test/hook", f"threshold_{bot.pk}": "-5"},
    )
    page = alerts.content.decode()
    assert alerts.status_code == 400 and "https://" in page and 'value="-5"' in page


def test_history_csv_holds_the_filtered_rows_exactly(browser, bot):
    seed_history(bot=bot, orders=30, days=3)
    response = browser.get(reverse("portal:history_csv"), {"kind": "fills"})
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("exec_time,bot,symbol,side,qty,price,fee,realised_pnl")
    assert len(lines) == 31 and all("Trend BTC" in line for line in lines[1:])
    # A name a spreadsheet would run as a formula is defused; numbers stay numbers.
    Bot.objects.filter(pk=bot.pk).update(name='=HYPERLINK("http://evil.test")')
    text = b"".join(browser.get(reverse("portal:history_csv")).streaming_content).decode()
    row = next(csv.reader(io.StringIO(text.splitlines()[1])))
    assert row[1] == "'" + '=HYPERLINK("http://evil.test")'


def test_viewer_sees_settings_read_only(bot, viewer_client):
    client = viewer_client
    page = client.get(reverse("portal:bot_tuning", args=[bot.pk])).content.decode()
    assert 'name="risk_per_trade"' in page and "disabled" in page
    assert 'name="save"' not in page and "data-action" not in page
