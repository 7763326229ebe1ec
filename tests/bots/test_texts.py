"""The engine's words: codes stored with their parameters, said in the reader's language when
shown, the English the same sentence the engine wrote; old rows show their stored text."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from django.core import mail
from django.test import RequestFactory
from django.utils import translation

from accounts.models import User
from accounts.services.invitations import invitation_accept, invitation_create_client
from accounts.services.language import user_language_set
from bots.models import Alert, OrderIntent
from bots.risk import AccountState, RiskLimits, decide
from bots.services.alerts import alert_raise
from bots.services.notify import alert_deliver
from bots.strategies.base import Signal, Target
from bots.templatetags.engine_text import alert_words, intent_error, intent_reason
from bots.texts import ENGINE_TEXT, exchange_error_render, phrases_render, text_render
from exchange.errors import ExchangeError, InsufficientBalanceError
from exchange.types import Instrument
from tests.factories import MembershipFactory, StaffUserFactory, TenantFactory, UserFactory
from tests.i18n import catalogue
from tradingsvc.lib.phrases import Phrase, phrase_from_json, phrases_json

D = Decimal
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BTC = Instrument(
    symbol="BTCUSDT",
    status="Trading",
    base_coin="BTC",
    quote_coin="USDT",
    tick_size=D("0.1"),
    min_price=D("0.1"),
    max_price=D("1999999.8"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D("1190"),
    max_market_qty=D("119"),
    min_notional=D("5"),
    min_leverage=D("1"),
    max_leverage=D("100"),
    leverage_step=D("0.01"),
)
LIMITS = RiskLimits(
    risk_per_trade=D("0.01"),
    max_position_multiple=D("3"),
    max_leverage=D("5"),
    daily_loss_limit=D("0.03"),
    max_drawdown=D("0.10"),
    allowed_symbols=frozenset({"BTCUSDT"}),
    trading_start=time(9),
    trading_end=time(10),
)
FLAT = AccountState(equity=D("10000"), day_start_equity=D("10000"), peak_equity=D("10000"))
LONG = Signal(Target.LONG, Phrase("trend_ema.up", "Up %(fast)s.", fast="1"), D("500"))


def _decisions() -> list[Phrase]:
    """Reasons of the risk manager's every kind of answer, from pure calls."""

    def reason(**kw: object) -> Phrase:
        args = {
            "signal": LONG,
            "symbol": "BTCUSDT",
            "position_qty": D(0),
            "price": D("50000"),
            "account": FLAT,
            "limits": LIMITS,
            "instrument": BTC,
            "now": NOW,
        } | kw
        said = decide(**args).reasons[-1]  # type: ignore[arg-type]
        assert isinstance(said, Phrase), said
        return said

    within = NOW.replace(hour=9, minute=30)
    losing = AccountState(equity=D("9000"), day_start_equity=D("10000"), peak_equity=D("10000"))
    return [
        reason(),  # outside trading hours
        reason(now=within),  # opening long, risking …
        reason(now=within, position_qty=D("-0.1")),  # reversing
        reason(now=within, position_qty=D("0.1")),  # already positioned
        reason(now=within, signal=Signal(Target.FLAT, "x"), position_qty=D("0.1")),  # closing
        reason(now=within, signal=Signal(Target.LONG, "x")),  # no stop
        reason(now=within, price=D("4"), signal=Signal(Target.LONG, "x", D("1000000"))),  # small
        reason(account=losing),  # breaker
        reason(kill_switch="tenant"),
        reason(symbol="ETHUSDT"),
    ]


def test_the_english_of_every_engine_phrase_is_its_codes_sentence():
    """Each phrase the risk manager gives renders, from its code, to the English it was written
    in, and to something else in Portuguese: nothing reads differently for an English reader."""
    phrases = _decisions()

    codes = {p.code for p in phrases}
    assert len(codes) == len(phrases), sorted(codes)  # ten different answers
    for said in phrases:
        stored = said.as_json()
        with translation.override("en"):
            assert text_render(stored["code"], stored["params"]) == str(said), said.code
        with translation.override("pt-br"):
            assert text_render(stored["code"], stored["params"]) not in ("", str(said)), said.code


def test_every_code_has_a_portuguese_sentence_with_the_same_placeholders():
    """Every code of the table is in the pt_BR catalogue, translated."""
    translations = catalogue("pt_BR")

    missing = [code for code, words in ENGINE_TEXT.items() if not translations.get(str(words))]

    assert missing == []


def test_a_phrase_keeps_its_code_through_storage_and_pickling():
    """Stored as JSON (nested phrases too) or pickled, a phrase comes back with code and params."""
    why = Phrase("qty.below_min", "quantity %(qty)s is below the minimum %(min)s", qty=1, min=2)
    said = Phrase("risk.too_small", "Position too small to place: %(why)s.", why=why)

    again = phrase_from_json(said.as_json(), str(said))
    assert isinstance(again, Phrase) and again.as_json() == said.as_json()
    assert str(again) == "Position too small to place: quantity 1 is below the minimum 2."
    assert pickle.loads(pickle.dumps(said)).as_json() == said.as_json()  # noqa: S301
    with translation.override("pt-br"):
        assert phrases_render(phrases_json([said])) == (
            "Posição pequena demais para enviar: a quantidade 1 está abaixo do mínimo 2."
        )


def test_figures_use_the_readers_decimal_separator():
    """A plain figure in the parameters reads 0,25 in Portuguese and 0.25 in English."""
    stored = phrases_json([Phrase("risk.breaker.daily_loss", "x", loss="3.25%", limit="3.00%")])

    with translation.override("pt-br"):
        assert "3,25%" in phrases_render(stored) and "3,00%" in phrases_render(stored)
    with translation.override("en"):
        assert "3.25%" in phrases_render(stored)


def test_an_unknown_code_or_an_old_row_shows_the_stored_text():
    """A code missing from the table, parameters that do not fit, or no code at all: the stored
    English text, never an error."""
    assert phrases_render([{"code": "new.code", "params": {}}], "stored") == "new.code"
    assert text_render("risk.too_small", {"other": "x"}, "stored") == "stored"
    assert phrases_render([], "The bot is paused.") == "The bot is paused."
    assert text_render("nope", fallback="old") == "old"
    old = Alert(kind="loss.threshold", message="Old English text.", params={})
    assert alert_words(old) == "Old English text."


def test_an_order_refusal_is_said_from_bybits_ret_code_not_its_english():
    """An order refused for margin shows our sentence for the error with Bybit's retCode, in the
    reader's language; the exchange's own words stay in ``error`` for the operators."""
    intent = OrderIntent(
        error="Bybit: ab not enough for new order",
        error_code="InsufficientBalanceError",
        error_params={"error": "InsufficientBalanceError", "ret_code": 110007},
        reason="Opening long.",
        reason_codes=[{"code": "risk.closing", "params": {}}],
    )

    with translation.override("pt-br"):
        words = intent_error(intent)
        assert (
            words.startswith("O saldo disponível da conta é pequeno demais") and "110007" in words
        )
        assert intent_reason(intent) == "Encerrando a posição."
    with translation.override("en"):
        assert intent_error(intent).endswith("(Bybit retCode 110007)")
        assert exchange_error_render("NoSuchError", {}, "kept") == "kept"
    error = InsufficientBalanceError(ret_code=110007)
    assert isinstance(error, ExchangeError) and error.ret_code == 110007


@pytest.mark.django_db
def test_each_member_gets_the_alert_email_in_their_own_language():
    """One alert, two members: the one who chose Portuguese gets it in Portuguese, subject too;
    the other in English."""
    tenant = TenantFactory()
    brazilian = MembershipFactory(tenant=tenant, user=UserFactory(language="pt-br")).user
    english = MembershipFactory(tenant=tenant, user=UserFactory()).user
    alert = alert_raise(
        tenant_id=tenant.pk,
        kind="loss.threshold",
        severity="critical",
        params={"bot": "Tendência", "pnl": "-150.25", "threshold": "100.00"},
    )
    assert alert is not None

    alert_deliver(alert=alert)

    by_recipient = {tuple(m.to): m for m in mail.outbox}
    pt, en = by_recipient[(brazilian.email,)], by_recipient[(english.email,)]
    assert pt.subject.startswith("[tradingsvc] Crítico: Tendência: o resultado é -150,25 USDT")
    assert "Veja os detalhes no seu painel" in pt.body and "dashboard" not in pt.body
    assert en.subject.startswith("[tradingsvc] Critical: Tendência: P&L is -150.25 USDT")
    assert "See your dashboard for details" in en.body


@pytest.mark.django_db
def test_the_language_is_remembered_at_signup_and_by_the_switch(client):
    """Signing up from a Portuguese browser stores pt-br; the switch changes it; an unknown
    language is ignored."""
    issued = invitation_create_client(
        tenant_name="Acme", email="ana@example.test", invited_by=StaffUserFactory()
    )
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")
    user = invitation_accept(
        token=issued.token,
        email="ana@example.test",
        password="a-Long-pass-phrase-42",
        request=request,
    )
    assert User.objects.get(pk=user.pk).language == "pt-br"

    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).language == "en"
    assert user_language_set(user=user, language="xx") is False
