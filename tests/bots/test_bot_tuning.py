"""Bots copy a template, are tuned within its bounds, and move through an audited lifecycle."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from bots.models import Bot, RiskTemplate
from bots.services.lifecycle import TransitionRefused, bot_transition
from bots.services.tuning import BotTuningError, bot_create, bot_tuning_update, limits_for
from exchange.services.keys import exchange_key_replace
from tests.factories import connection_with_account

pytestmark = pytest.mark.django_db


def make_bot(owner, slug="moderate", **kwargs):
    template = RiskTemplate.objects.get(slug=slug)
    return bot_create(
        tenant=owner.tenant,
        template=template,
        name="My bot",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
        **kwargs,
    )


def test_three_templates_are_seeded_with_their_strategies():
    assert set(RiskTemplate.objects.values_list("slug", flat=True)) >= {
        "conservative",
        "moderate",
        "aggressive",
    }
    assert RiskTemplate.objects.get(slug="aggressive").strategy == "mean_reversion"


def test_bot_copies_the_template_and_is_audited(owner):
    result = make_bot(owner)
    bot = result.bot
    template = RiskTemplate.objects.get(slug="moderate")
    assert (bot.state, bot.mode, bot.timeframe) == (
        Bot.State.DRAFT,
        Bot.Mode.DRY_RUN,
        template.timeframe,
    )
    assert bot.risk_per_trade == template.risk_per_trade
    assert bot.strategy_params["fast_period"] == 12
    assert limits_for(bot).allowed_symbols == frozenset({"BTCUSDT", "ETHUSDT"})
    assert AuditEvent.objects.filter(action="bot.created", target_id=str(bot.pk)).exists()
    assert result.warnings == []


def test_tuning_outside_the_bounds_is_refused_with_the_allowed_range(owner):
    with pytest.raises(BotTuningError) as err:
        make_bot(owner, limits={"risk_per_trade": "0.05", "max_leverage": "abc"})
    assert (
        err.value.errors["risk_per_trade"]
        == "Risk per trade: the Moderate template allows 0.002 to 0.015."
    )
    assert err.value.errors["max_leverage"] == "Maximum leverage: enter a number."
    with pytest.raises(BotTuningError) as err:
        make_bot(owner, strategy_params={"fast_period": "1"})
    assert "at least 2" in err.value.errors["fast_period"]


def test_raising_risk_is_flagged_warned_and_audited_with_before_and_after(owner):
    bot = make_bot(owner, slug="aggressive").bot
    result = bot_tuning_update(bot=bot, by=owner.user, limits={"risk_per_trade": "0.03"})
    assert result.raised_risk is True
    assert any("per trade is high" in w for w in result.warnings)
    event = AuditEvent.objects.get(action="bot.settings_changed")
    assert event.before["risk_per_trade"] == "0.020000" and event.after["risk_per_trade"] == "0.03"
    lowered = bot_tuning_update(bot=bot, by=owner.user, limits={"risk_per_trade": "0.01"})
    assert lowered.raised_risk is False


def test_lifecycle_moves_are_checked_and_audited(owner):
    bot = make_bot(owner).bot
    bot = bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)
    bot = bot_transition(bot=bot, to=Bot.State.PAUSED, by=owner.user)
    bot = bot_transition(bot=bot, to=Bot.State.STOPPED, by=owner.user)
    with pytest.raises(TransitionRefused, match="cannot be set to running"):
        bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)
    actions = list(
        AuditEvent.objects.filter(target_id=str(bot.pk)).values_list("action", flat=True)
    )
    assert {"bot.running", "bot.paused", "bot.stopped"} <= set(actions)


def test_starting_live_needs_a_working_key(owner):
    bot = make_bot(owner, mode=Bot.Mode.LIVE).bot
    with pytest.raises(TransitionRefused, match="working exchange key"):
        bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)


def test_key_rotation_moves_the_bots_to_the_new_key(owner):
    old = connection_with_account(
        tenant=owner.tenant,
        environment="simulator",
        status="active",
        exchange_uid="7",
        api_key_sealed="x",
    )
    new = connection_with_account(
        tenant=owner.tenant,
        environment="simulator",
        status="active",
        exchange_uid="7",
        api_key_sealed="y",
    )
    bot = make_bot(owner).bot
    Bot.objects.filter(pk=bot.pk).update(connection=old)
    assert exchange_key_replace(old=old, new=new, by=owner.user) == 1
    bot.refresh_from_db()
    assert bot.connection_id == new.pk
    assert Decimal(bot.risk_per_trade) == Decimal("0.01")
