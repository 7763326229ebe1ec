"""The engine's words: each code the engine stores, with its sentence in every language we speak.

The engine stores what it has to say as a code with parameters (``tradingsvc.lib.phrases``:
tick reasons, order errors, bot state reasons; ``Alert.kind`` with ``Alert.params``) and the pages,
emails and admin render it here, in the active language, when it is shown, as
``accounts.templatetags.audit`` does for audit actions. The English of each entry is the same
sentence the engine wrote (``tests/bots/test_texts.py`` holds them to it), so an English reader
sees no difference. A code missing from the table, or parameters that do not fit its sentence,
show the stored English text instead: an old row or a new code is terse, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bots.strategies.text import Text
from tradingsvc.lib.phrases import Phrase

ENGINE_TEXT: dict[str, Promise] = {
    # --- the strategies (bots/strategies) ---
    "trend_ema.bad_periods": _("The fast EMA must be shorter than the slow one; holding."),
    "trend_ema.up": _("Uptrend: fast EMA %(fast)s is above slow EMA %(slow)s."),
    "trend_ema.down": _("Downtrend: fast EMA %(fast)s is below slow EMA %(slow)s."),
    "trend_ema.no_up": _("No uptrend: fast EMA %(fast)s is not above slow EMA %(slow)s."),
    "mean_reversion.oversold": _(
        "Oversold: close %(close)s is under the lower band %(lower)s and RSI is %(rsi)s."
    ),
    "mean_reversion.overbought": _(
        "Overbought: close %(close)s is over the upper band %(upper)s and RSI is %(rsi)s."
    ),
    "mean_reversion.middle": _("Back at the middle band %(middle)s: take any position off."),
    "mean_reversion.between": _("Between the bands (RSI %(rsi)s): nothing to do."),
    # --- the risk manager (bots/risk.py) ---
    "risk.breaker.daily_loss": _(
        "Daily loss %(loss)s reached the limit of %(limit)s: paused until you resume."
    ),
    "risk.breaker.drawdown": _(
        "Drawdown %(drawdown)s from the peak reached the limit of %(limit)s: "
        "paused until you resume."
    ),
    "risk.kill_switch.global": _("Kill switch on (global): no new orders."),
    "risk.kill_switch.tenant": _("Kill switch on (tenant): no new orders."),
    "risk.kill_switch.bot": _("Kill switch on (bot): no new orders."),
    "risk.symbol_not_allowed": _("%(symbol)s is not among the allowed symbols."),
    "risk.outside_hours": _("Outside trading hours: no new positions."),
    "risk.closing": _("Closing the position."),
    "risk.holding": _("Already positioned that way: holding."),
    "risk.no_stop": _("No stop-loss distance: refusing to size a position without one."),
    "risk.too_small": _("Position too small to place: %(why)s."),
    "risk.opening_long": _("Opening long %(qty)s %(symbol)s, %(note)s."),
    "risk.opening_short": _("Opening short %(qty)s %(symbol)s, %(note)s."),
    "risk.reversing_long": _("Reversing long %(qty)s %(symbol)s, %(note)s."),
    "risk.reversing_short": _("Reversing short %(qty)s %(symbol)s, %(note)s."),
    "risk.size.risking": _("risking %(risk)s of equity over a stop %(stop)s away"),
    "risk.size.capped": _(
        "capped at %(multiple)sx equity (the risk budget alone would allow more)"
    ),
    # --- the instrument's rules (exchange/types.py) ---
    "qty.zero": _("quantity rounds to zero"),
    "qty.not_step": _("quantity %(qty)s is not a multiple of the lot step %(step)s"),
    "qty.below_min": _("quantity %(qty)s is below the minimum %(min)s"),
    "qty.above_max": _("quantity %(qty)s is above the maximum %(max)s"),
    "qty.below_notional": _("order value %(value)s is below the minimum %(min)s"),
    # --- ticks (bots/services/ticks.py) ---
    "skip.tenant_suspended": _("Not decided: the account is suspended, so its bots do not trade."),
    "skip.tenant_disabled": _("Not decided: the account is disabled, so its bots do not trade."),
    "skip.bot_draft": _("The bot is a draft."),
    "skip.bot_paused": _("The bot is paused."),
    "skip.bot_stopped": _("The bot is stopped."),
    "skip.bot_error": _("The bot is in the error state."),
    "tick.key_unusable": _("The bot's exchange key is %(status)s."),
    "tick.failed_internal": _(
        "The decision failed on our side (%(error)s); our operators can see why."
    ),
    # --- bot states (bots/services/lifecycle.py callers) ---
    "bot.state.key": _(
        "Its exchange key …%(key)s is %(status)s: connect a working key and rotate to it."
    ),
    "bot.state.key_refused": _("Its exchange key …%(key)s stopped working: %(reason)s"),
    "bot.state.margin": _("The exchange refused its orders for lack of margin, again and again."),
    "bot.state.failed_ticks": _("%(count)s ticks in a row failed: %(error)s"),
    "key.status.active": _("working"),
    "key.status.pending": _("not validated yet"),
    "key.status.invalid": _("refused"),
    "key.status.retired": _("replaced by a newer key"),
    "key.status.missing": _("missing"),
    "protection.flatten.global": _("Kill switch (everything): closing the position."),
    "protection.flatten.tenant": _("Kill switch (one client): closing the position."),
    "protection.flatten.bot": _("Kill switch (one bot): closing the position."),
    # --- exchange errors on orders (exchange/errors.py), by class and by Bybit retCode ---
    "exchange.with_ret_code": _("%(text)s (Bybit retCode %(ret_code)s)"),
    "exchange.ExchangeError": _("The exchange refused the request."),
    "exchange.AuthenticationError": _(
        "Bybit did not accept this API key. Check that the key and secret were copied completely."
    ),
    "exchange.WrongEnvironmentError": _(
        "Bybit does not know this API key on the selected environment. Check the environment: keys "
        "made on mainnet, testnet or demo trading only work there."
    ),
    "exchange.TimestampError": _(
        "Bybit rejected the request time. The server clock drifted from Bybit's; it is re-measured "
        "automatically, so retry in a few seconds."
    ),
    "exchange.PermissionDeniedError": _(
        "This API key is not allowed to do that. On Bybit, give the key Read-Write access with "
        "'Contract - Orders' and 'Positions' permissions (and check its IP whitelist)."
    ),
    "exchange.RateLimitedError": _(
        "Bybit asked us to slow down. The request was not processed; retry after the wait."
    ),
    "exchange.IpRateLimitedError": _(
        "Bybit blocked this server's IP address for sending too many requests. All requests pause "
        "for several minutes; nothing was processed."
    ),
    "exchange.InsufficientBalanceError": _(
        "The account's available balance is too small for this order. Deposit funds, reduce the "
        "size or lower the leverage."
    ),
    "exchange.InvalidOrderError": _(
        "Bybit rejected the order's parameters (price, quantity, tick or lot size). Fix the order."
    ),
    "exchange.DuplicateOrderLinkIdError": _(
        "An order with this orderLinkId already exists. The earlier attempt reached Bybit: look it "
        "up instead of sending it again."
    ),
    "exchange.OrderNotFoundError": _(
        "Bybit has no such order (or it is already filled or cancelled)."
    ),
    "exchange.ExchangeUnavailableError": _(
        "Bybit is unavailable or under maintenance. Nothing was processed; retry later."
    ),
    "exchange.UnknownOutcomeError": _(
        "The request reached the network but no reply came back, so it may or may not have been "
        "applied. Look the order up by its orderLinkId before doing anything else."
    ),
    "exchange.ExchangeRequestError": _("Bybit refused the request."),
    "exchange.ret.10001": _("Bybit rejected a parameter of the request"),
    "exchange.ret.110003": _(
        "The order price is outside the range Bybit allows for this instrument now."
    ),
    "exchange.ret.110017": _(
        "The quantity rounds down to zero (below the lot size) or there is nothing to reduce."
    ),
    "exchange.ret.110094": _("The order value is below the instrument's minimum notional."),
    "exchange.ret.110020": _("The account already has the maximum number of open orders on Bybit."),
    "order.rejected": _("The exchange rejected the order (%(reason)s)."),
    "order.could_not_check": _("Could not check this order with the exchange yet: %(error)s"),
    "unknown_expired": _(
        "The exchange has no trace of this order after 24 hours; it will never be sent again."
    ),
    # --- alerts (Alert.kind; bots/services/*) ---
    "bot.error.failed_ticks": _(
        "%(bot)s was put in the error state after %(count)s failed ticks in a row (last error: "
        "%(error)s). Nothing is traded until you resume it; our operators have been told."
    ),
    "bot.error.margin": _(
        "%(bot)s was put in the error state: the exchange refused its orders %(count)s times in a "
        "row for lack of margin. Deposit funds or lower its risk per trade, then resume it."
    ),
    "bot.error.key": _(
        "%(bot)s was put in the error state: its exchange key …%(key)s cannot be used (%(reason)s). "
        "Connect a working key, rotate to it, then resume the bot."
    ),
    "key.invalid": _(
        "Your exchange key …%(key)s stopped working: %(reason)s. The %(bots)s bot(s) using it are "
        "in the error state until you connect a working key, rotate to it and resume them."
    ),
    "key.expiring": _(
        "Your exchange key …%(key)s expires on %(date)s: connect a new one and rotate before then."
    ),
    "order.unknown": _(
        "Order %(link)s was sent but the exchange has no record of it yet. We keep checking; an "
        "operator confirms it within 24 hours."
    ),
    "order.unknown_expired": _(
        "Order %(link)s of %(bot)s was sent but the exchange has no trace of it after 24 hours. It "
        "will never be sent again; an operator confirms that it was never placed."
    ),
    "breaker.daily_loss": _("%(bot)s: %(reason)s"),
    "breaker.drawdown": _("%(bot)s: %(reason)s"),
    "position.open_long": _(
        "%(bot)s: a %(symbol)s position of %(qty)s has been open since %(since)s UTC (over 24 "
        "hours)."
    ),
    "loss.threshold": _(
        "%(bot)s: P&L is %(pnl)s USDT, past your alert threshold of -%(threshold)s USDT."
    ),
    "connectivity.streams": _(
        "Exchange streams shard %(shard)s has not reported for over %(minutes)s minutes: fills "
        "arrive only through reconciliation."
    ),
    "position.corrected": _(
        "%(bot)s: the exchange holds %(held)s %(symbol)s where we had %(before)s; corrected."
    ),
    "position.unintended": _(
        "There is a %(symbol)s position of %(qty)s on the account that no bot holds."
    ),
    "order.foreign": _("An open %(side)s %(qty)s %(symbol)s order was not placed by tradingsvc."),
    "fill.foreign": _(
        "A %(side)s %(qty)s %(symbol)s fill on this account carries an order id tradingsvc did not "
        "give this account (%(link)s). It was not applied to any bot."
    ),
    "books.divergence": _(
        "Books of account %(account)s (tenant %(tenant)s) differ from the exchange. %(details)s"
    ),
}

# Plain figures ("1.50", "-3", "2.00%") are shown with the reader's decimal separator.
_FIGURE = re.compile(r"-?\d+(\.\d+)?%?")


def phrase(code: str, /, **params: object) -> Phrase:
    """A phrase of this table for storing: the code and parameters, with the English as its text."""
    with translation.override("en"):
        english = str(ENGINE_TEXT[code])
    return Phrase(code, english, **params)


def text_render(code: str, params: Mapping[str, Any] | None = None, fallback: str = "") -> str:
    """The code's sentence in the active language with its parameters, else ``fallback``."""
    words = ENGINE_TEXT.get(code)
    if words is None:
        return fallback
    values = {key: _param(value) for key, value in (params or {}).items()}
    try:
        return str(words) % values if values else str(words)
    except (KeyError, TypeError, ValueError):
        return fallback


def phrase_render(data: Mapping[str, Any], fallback: str = "") -> str:
    """One stored phrase (``Phrase.as_json()``) in words; a stored plain text as it is."""
    code = str(data.get("code") or "")
    if not code:
        return str(data.get("text") or fallback)
    if code.startswith("exchange."):
        return exchange_error_render(code.removeprefix("exchange."), data.get("params"), fallback)
    return text_render(code, data.get("params"), fallback or code)


def phrases_render(stored: Iterable[Mapping[str, Any]] | None, fallback: str = "") -> str:
    """Stored phrases in words, one after the other; ``fallback`` (the old text) when none."""
    said = [phrase_render(item) for item in stored or () if isinstance(item, Mapping)]
    said = [text for text in said if text]
    return " ".join(said) if said else fallback


def exchange_error_render(code: str, params: Mapping[str, Any] | None, fallback: str = "") -> str:
    """An order's exchange error in words: Bybit's retCode's own sentence, else its class's."""
    ret_code = (params or {}).get("ret_code")
    text = ""
    if ret_code not in (None, ""):
        text = text_render(f"exchange.ret.{ret_code}")
    text = text or text_render(f"exchange.{code}") or text_render(code, params)
    if not text:
        return fallback
    if ret_code not in (None, ""):
        return text_render("exchange.with_ret_code", {"text": text, "ret_code": ret_code}, text)
    return text


def _param(value: Any) -> str:
    if isinstance(value, Mapping):
        return phrase_render(value)
    text = str(value)
    if _FIGURE.fullmatch(text) and "." in text:
        number, percent = (text[:-1], "%") if text.endswith("%") else (text, "")
        try:
            places = len(number.partition(".")[2])
            return formats.number_format(Decimal(number), places, use_l10n=True) + percent
        except InvalidOperation:
            return text
    return text


# --- strategy parameter labels and validation messages (bots.strategies.text.Text) ---
def rendered(text: str) -> str:
    """The text in the active language; parameters that are texts themselves are translated too."""
    if not isinstance(text, Text):
        return text
    message = gettext(text.message)
    if not text.params:
        return message
    return message % {k: rendered(v) if isinstance(v, str) else v for k, v in text.params.items()}


def rendered_errors(errors: Mapping[str, str]) -> dict[str, str]:
    return {name: rendered(text) for name, text in errors.items()}
