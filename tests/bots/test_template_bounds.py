"""Every setting of a bot stays inside its template's bounds, whichever door it comes through.

For every seeded template and every risk limit and strategy parameter, a value outside the
template's bounds (but inside the strategy's own range) is refused by the client's form, by the
service and by the operator's admin; raising risk (shorting turned on, a wider stop) is flagged so
the page asks for the password again.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, cast

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import User
from bots.forms import PARAM_PREFIX, PERCENT_LIMITS, BotTuningForm
from bots.models import Bot, RiskTemplate
from bots.services.tuning import (
    TUNABLE_LIMITS,
    BotTuningError,
    bot_create,
    bot_tuning_update,
)
from bots.strategies import ParamKind, get_strategy
from tests.factories import (
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db
SLUGS = ("conservative", "moderate", "aggressive")


def make_bot(owner, slug: str) -> Bot:
    template = RiskTemplate.objects.get(slug=slug)
    return bot_create(
        tenant=owner.tenant,
        template=template,
        name=f"{slug} bot",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot


def outside_values(template: RiskTemplate) -> list[tuple[str, Any]]:
    """One value per setting just outside the template's bounds, inside the strategy's range."""
    out: list[tuple[str, Any]] = []
    for name in TUNABLE_LIMITS:
        high = Decimal(template.bounds[name][1])
        out.append((name, high * 2))
    for spec in get_strategy(template.strategy).params:
        bounds = template.bounds[spec.name]
        if spec.kind is ParamKind.BOOL:
            if set(bounds) != {False, True}:
                out.append((spec.name, not bounds[0]))
            continue
        step = Decimal(1) if spec.kind is ParamKind.INT else Decimal("0.1")
        high, low = Decimal(bounds[1]) + step, Decimal(bounds[0]) - step
        value = high if spec.maximum is None or high <= spec.maximum else low
        assert spec.minimum is None or value >= spec.minimum
        out.append((spec.name, int(value) if spec.kind is ParamKind.INT else value))
    return out


def form_data(bot: Bot, **changes: Any) -> dict[str, Any]:
    """What the settings page posts: every field as shown, then the changes."""
    form = BotTuningForm(bot=bot)
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    for name, value in changes.items():
        if name in TUNABLE_LIMITS:
            data[name] = str(value * 100 if name in PERCENT_LIMITS else value)
        elif isinstance(value, bool):
            data.pop(PARAM_PREFIX + name, None)
            if value:
                data[PARAM_PREFIX + name] = "on"
        else:
            data[PARAM_PREFIX + name] = str(value)
    return data


def admin_editable_fields(bot: Bot) -> set[str]:
    """What the operator's change form of the bot lets them type: nothing (the admin is read-only
    for bots; settings change through the web app's services, within the bounds)."""
    model_admin = admin.site._registry[Bot]
    request = RequestFactory().get("/")
    request.user = cast("User", StaffUserFactory(is_superuser=True))
    form_class = model_admin.get_form(request, bot, change=True)
    return set(form_class.base_fields)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_setting_outside_the_template_bounds_is_refused_by_form_service_and_admin(
    owner, slug
):
    """Each limit and each parameter, one at a time, just past the template's bounds."""
    bot = make_bot(owner, slug)
    template = bot.template
    values = outside_values(template)
    assert len(values) >= len(TUNABLE_LIMITS) + 4

    for name, value in values:
        field = name if name in TUNABLE_LIMITS else PARAM_PREFIX + name
        form = BotTuningForm(form_data(bot, **{name: value}), bot=bot)
        kind = "limits" if name in TUNABLE_LIMITS else "strategy_params"
        with pytest.raises(BotTuningError) as refused:
            bot_tuning_update(bot=bot, by=owner.user, **{kind: {name: value}})

        assert not form.is_valid() and field in form.errors, (slug, name, value)
        assert name in refused.value.errors, (slug, name, value)
        assert name not in admin_editable_fields(bot) and "strategy_params" not in (
            admin_editable_fields(bot)
        ), (slug, name, value)
        bot.refresh_from_db()
        stored = getattr(bot, name) if name in TUNABLE_LIMITS else bot.strategy_params[name]
        assert str(stored) != str(value)


def test_a_value_inside_the_template_bounds_is_accepted_everywhere(owner):
    """The same doors accept a value inside the bounds (the refusals above are the bounds')."""
    bot = make_bot(owner, "moderate")

    form = BotTuningForm(form_data(bot, fast_period=20), bot=bot)
    saved = bot_tuning_update(bot=bot, by=owner.user, strategy_params={"fast_period": 20})

    assert form.is_valid(), form.errors
    assert saved.bot.strategy_params["fast_period"] == 20


def test_shorting_cannot_be_turned_on_for_a_conservative_bot_through_the_admin_page(
    owner, operator_client
):
    """The operator's admin page (2FA sign-in, real change view) offers no field to change, and
    a crafted post changes nothing."""
    bot = make_bot(owner, "conservative")
    client = operator_client
    page = client.get(f"/admin/bots/bot/{bot.pk}/change/")
    params = dict(bot.strategy_params, allow_short=True)

    response = client.post(
        f"/admin/bots/bot/{bot.pk}/change/",
        {"strategy_params": json.dumps(params), "risk_per_trade": "0.5", "_save": "Save"},
    )

    assert page.status_code == 200 and 'name="strategy_params"' not in page.content.decode()
    assert response.status_code in (200, 302, 403)
    bot.refresh_from_db()
    assert bot.strategy_params["allow_short"] is False
    assert bot.risk_per_trade == bot.template.risk_per_trade
