"""What the engine writes, read by a Brazilian client: no English sentence on their pages or in
their emails.

The engine runs first, for real, on the simulator (stepped clock): a live bot whose orders the
simulator refuses for lack of margin until the bot is put in error, a dry-run bot whose daily-loss
breaker trips, a tick skipped because its bot was paused after dispatch, and a reconciliation that finds a
drifted position and an order nobody placed through us. Then the client signs in, chooses
Portuguese with the language switch and walks their dashboard, activity, alerts and history in
headless Chromium; the alerts are delivered (as the delivery task does) into Django's outbox.

"An English sentence" is, concretely, any of:
- a sentence of the English the engine stored next to its codes (``Alert.message``, tick reasons
  and errors, order reasons and errors, bot state reasons), found anywhere in the page's text;
- one of our catalogue's English msgids, placeholders matched as wildcards (``english_leftovers``:
  every engine code's English sentence is in the catalogue);
- a text with two or more English grammar words that Portuguese lacks ("the", "is", "of", "has",
  …; ``english_sentences``): numbers, symbols, product and brand names never count.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import User
from bots.models import Alert, Bot, BotPosition, BotTick, OrderIntent, RiskTemplate
from bots.services.lifecycle import bot_transition
from bots.services.reconcile import reconcile_connection
from bots.services.snapshots import snapshot_bot
from bots.services.ticks import tick_run, ticks_dispatch
from bots.services.tuning import bot_create
from bots.tasks import deliver_alert, snapshot_equity
from exchange.gateway import ExchangeGateway
from exchange.instruments import instruments_forget
from exchange.services.candles import candles_sync
from exchange.services.keys import exchange_key_connect
from exchange.types import OrderRequest
from tests.factories import client_with_2fa
from tests.fixtures.browser import log_in_with_2fa, screenshot
from tests.i18n import english_leftovers, english_sentences, normalise, sentences_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PAGES = ["/app/", "/app/activity/", "/app/notifications/", "/app/history/"]
# The page's visible text, node by node, and the whole body as one text.
VISIBLE_TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || ["SCRIPT", "STYLE"].includes(parent.tagName) || parent.closest("[hidden]")) continue;
    if (parent.closest("[lang]") && parent.closest("[lang]").lang !== "pt-br") continue;
    if (node.textContent.trim()) texts.push(node.textContent);
  }
  for (const el of document.body.querySelectorAll("[placeholder], [title], [aria-label]")) {
    texts.push(el.getAttribute("placeholder") || el.getAttribute("title") || el.getAttribute("aria-label"));
  }
  return texts;
}"""


@pytest.fixture
def sim(simulator, settings):
    """The simulator as the engine's exchange and market data."""
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    settings.EXCHANGE_CANDLE_BACKFILL = 200
    instruments_forget()
    yield simulator
    instruments_forget()


def _running_bot(owner, *, name: str, mode: str, connection=None) -> Bot:
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name=name,
        symbol="BTCUSDT",
        connection=connection,
        by=owner.user,
        mode=mode,
    ).bot
    return bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)


def _run_due_ticks() -> list[BotTick]:
    """What beat and the workers do: sync candles once, dispatch, run each due tick."""
    candles_sync()
    return [tick_run(bot_id=bot_id, candle_start=start) for bot_id, start in ticks_dispatch()]


def _engine_writes_reasons_errors_and_alerts(sim, owner, settings) -> None:
    """Real ticks and a reconciliation that leave refusals, a breaker, skips and alerts behind."""
    settings.BOT_ERROR_AFTER_FAILED_TICKS = 2
    uid, key, secret = sim.create_account(usdt="10000")
    connection = exchange_key_connect(
        tenant=owner.tenant, environment="simulator", api_key=key, api_secret=secret, by=owner.user
    )
    live = _running_bot(owner, name="Tendência BTC", mode=Bot.Mode.LIVE, connection=connection)
    dry = _running_bot(owner, name="Simulação BTC", mode=Bot.Mode.DRY_RUN)
    paused = _running_bot(owner, name="Pausado BTC", mode=Bot.Mode.DRY_RUN)
    # An order placed by hand on the account (reconciliation: "not placed by tradingsvc").
    ExchangeGateway.for_connection(connection).place_order(
        OrderRequest(
            symbol="BTCUSDT",
            side="Buy",
            order_type="Limit",
            qty=Decimal("0.01"),
            price=Decimal("1000"),
            order_link_id="manual-1",
        )
    )
    snapshot_equity()  # 10,000 USDT: the live bot sizes on it until the next snapshot
    sim.admin("POST", f"/sim/accounts/{uid}/withdraw", {"amount": "9980"})  # margin refused

    _run_due_ticks()
    # Our record of the live bot drifted from the exchange (flat there): reconciliation corrects it.
    BotPosition.objects.update_or_create(
        bot=live,
        symbol=live.symbol,
        defaults={
            "tenant_id": live.tenant_id,
            "qty": Decimal("0.85"),
            "avg_price": Decimal("2500"),
        },
    )
    reconcile_connection(connection=connection)
    snapshot_bot(bot=dry)  # the dry-run bot's day baseline, then a large open loss
    BotPosition.objects.update_or_create(
        bot=dry,
        symbol=dry.symbol,
        defaults={"tenant_id": dry.tenant_id, "qty": Decimal("1"), "avg_price": Decimal("1000000")},
    )
    sim.advance(minutes=15)
    _run_due_ticks()  # the second refusal puts the live bot in error; the breaker trips
    sim.advance(minutes=15)
    candles_sync()
    due = ticks_dispatch()
    bot_transition(bot=paused, to=Bot.State.PAUSED, by=owner.user)  # after dispatch, before its run
    for bot_id, start in due:
        tick_run(bot_id=bot_id, candle_start=start)  # skipped: the bot is paused

    kinds = set(Alert.objects.filter(tenant=owner.tenant).values_list("kind", flat=True))
    assert kinds >= {"bot.error.margin", "breaker.daily_loss", "position.corrected"}, kinds
    assert kinds & {"order.foreign", "position.unintended"}, kinds
    assert OrderIntent.objects.filter(bot=live, error_code="InsufficientBalanceError").exists()
    assert OrderIntent.objects.filter(bot=dry).exclude(reason="").exists()
    assert BotTick.objects.filter(bot=paused, status=BotTick.Status.SKIPPED).exists()
    states = dict(Bot.objects.filter(tenant=owner.tenant).values_list("name", "state"))
    assert states == {
        "Tendência BTC": Bot.State.ERROR,
        "Simulação BTC": Bot.State.PAUSED,
        "Pausado BTC": Bot.State.PAUSED,
    }


def _engine_english(tenant) -> set[str]:
    """Every sentence of English the engine stored for this tenant (its texts beside the codes)."""
    texts: list[str] = []
    texts += Alert.objects.filter(tenant=tenant).values_list("message", flat=True)
    for reasons, error in BotTick.objects.filter(bot__tenant=tenant).values_list(
        "reasons", "error"
    ):
        texts += [reasons, error]
    for reason, error in OrderIntent.objects.filter(tenant=tenant).values_list("reason", "error"):
        texts += [reason, error]
    texts += Bot.objects.filter(tenant=tenant).values_list("state_reason", flat=True)
    return {sentence for text in texts if text for sentence in sentences_of(text)}


def _english_in(texts: Iterable[str], engine_english: set[str]) -> dict[str, list[str]]:
    """What in ``texts`` is an English sentence, by the three tests of the module docstring."""
    texts = [text for text in texts if text and text.strip()]
    whole = normalise(" ".join(texts))
    found = {
        "engine English": sorted(s for s in engine_english if s in whole),
        "catalogue English": sorted(set(english_leftovers(texts))),
        "English grammar": sorted(set(english_sentences(texts))),
    }
    return {test: hits for test, hits in found.items() if hits}


def test_a_brazilian_client_reads_no_english_the_engine_wrote(live_server, sim, settings, request):
    """After the engine wrote reasons, refusals and alerts, a client who chose Portuguese finds no
    English sentence on their dashboard, activity, alerts and history, nor in their emails."""
    owner = client_with_2fa()
    _engine_writes_reasons_errors_and_alerts(sim, owner, settings)
    engine_english = _engine_english(owner.tenant)
    assert len(engine_english) >= 8, engine_english  # the check has English to look for

    chromium = request.getfixturevalue("chromium")
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in_with_2fa(page, live_server.url, owner)
    page.select_option("#language-select", "pt-br")
    page.wait_for_function("document.documentElement.lang === 'pt-br'")
    found: dict[str, dict[str, list[str]]] = {}
    for path in PAGES:
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.lang") == "pt-br", path
        if english := _english_in(page.evaluate(VISIBLE_TEXTS), engine_english):
            found[path] = english
        screenshot(page, "pt-br-engine-" + (path.strip("/").replace("/", "-") or "app"))

    for alert in Alert.objects.filter(tenant=owner.tenant):
        deliver_alert(alert.pk)  # what the delivery task does once a worker takes it
    emails = [m for m in mail.outbox if owner.user.email in m.to]
    assert len(emails) >= 3, [m.subject for m in mail.outbox]
    for number, email in enumerate(emails):
        lines = [email.subject, *email.body.splitlines()]
        if english := _english_in(lines, engine_english):
            found[f"email {number}: {email.subject}"] = english
    assert found == {}, found
    assert User.objects.get(pk=owner.user.pk).language == "pt-br", "the switch is remembered"


def test_the_english_checks_spot_english_and_pass_portuguese():
    """The grammar test flags English sentences and passes Portuguese ones with names, figures and
    brand words; a stored sentence is found inside a longer text."""
    english = [
        "Tendência BTC was put in the error state: the exchange refused its orders.",
        "Position too small to place: quantity 0.0001 is below the minimum 0.001.",
    ]
    portuguese = [
        "Tendência BTC foi colocado em estado de erro: a corretora recusou suas ordens.",
        "Na Bybit, dê à chave as permissões 'Contract - Orders' e 'Positions'.",
        "Uptrend 12,5 RSI 70,1 USDT BTCUSDT orderLinkId",
    ]

    assert english_sentences(english) == [normalise(t) for t in english]
    assert english_sentences(portuguese) == []
    stored = {"the exchange refused its orders."}
    assert _english_in(["Robô: the exchange refused its orders. Fim"], stored)["engine English"]
    assert _english_in(portuguese, stored) == {}
