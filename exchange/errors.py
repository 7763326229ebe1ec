"""Typed errors of the exchange gateway: what went wrong, in words a person can act on.

Every error carries ``message`` (plain language, never key material or signed payloads), ``ret_code``
(Bybit's retCode, or ``None`` for transport failures), ``http_status`` when the failure was an HTTP
status, and ``retry_after`` (seconds) where waiting is the remedy. ``error_for_ret_code`` maps Bybit's
retCodes (``docs/v5/error.mdx``) onto these classes; the gateway is the only caller.

The hierarchy, and what a caller does with each:

- ``AuthenticationError`` (10003, 10004, 10002, 33004): the key, its signature or the clock is wrong;
  ``WrongEnvironmentError`` is the 10003 case, where Bybit cannot find the key on the environment the
  connection names ("there are 4 env"); ``TimestampError`` is 10002 (clock or recv_window).
- ``PermissionDeniedError`` (10005, 10010): the key lacks a permission or the IP is not whitelisted.
- ``RateLimitedError`` (10006, 10018, 10429): wait ``retry_after`` seconds; ``IpRateLimitedError`` is
  HTTP 403 (the egress IP is banned for minutes).
- ``InsufficientBalanceError`` (110007, 110004, 110012, 110044/45, ...).
- ``InvalidOrderError`` (10001 on order endpoints, 110003, 110017, 110094, 110092/93, ...): price,
  quantity, tick or lot is wrong; fix the order.
- ``DuplicateOrderLinkIdError`` (110072, 170141, 10014): the first attempt may have landed: query it.
- ``OrderNotFoundError`` (110001, 110008 for "already finished").
- ``ExchangeUnavailableError`` (HTTP 5xx, 10016, timeouts on reads): retry later.
- ``UnknownOutcomeError``: a write whose reply never came; the order may or may not exist, so it must
  be resolved by querying its ``orderLinkId``, never by sending it again.
- ``ExchangeRequestError``: any other refusal, with Bybit's code and message.
"""

from __future__ import annotations

from typing import ClassVar


class ExchangeError(Exception):
    """Base class. ``str(error)`` is the plain message; attributes say what to do next."""

    default_message: ClassVar[str] = "The exchange refused the request."
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str | None = None,
        *,
        ret_code: int | None = None,
        exchange_message: str = "",
        http_status: int | None = None,
        retry_after: float | None = None,
        endpoint: str = "",
    ) -> None:
        self.message = message or self.default_message
        self.ret_code = ret_code
        self.exchange_message = exchange_message
        self.http_status = http_status
        self.retry_after = retry_after
        self.endpoint = endpoint
        # Bybit's rate-limit headers of the failed answer (never request headers, which hold keys).
        self.response_headers: dict[str, str] = {}
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.ret_code is not None:
            parts.append(f"(Bybit retCode {self.ret_code})")
        elif self.http_status is not None:
            parts.append(f"(HTTP {self.http_status})")
        return " ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """A JSON-safe description, for storing in ``last_error`` or task results."""
        return {
            "type": type(self).__name__,
            "message": self.message,
            "ret_code": self.ret_code,
            "http_status": self.http_status,
            "retry_after": self.retry_after,
            "endpoint": self.endpoint,
        }


class AuthenticationError(ExchangeError):
    default_message = (
        "Bybit did not accept this API key. Check that the key and secret were copied completely."
    )


class WrongEnvironmentError(AuthenticationError):
    default_message = (
        "Bybit does not know this API key on the selected environment. Check the environment: keys "
        "made on mainnet, testnet or demo trading only work there."
    )


class TimestampError(AuthenticationError):
    default_message = (
        "Bybit rejected the request time. The server clock drifted from Bybit's; it is re-measured "
        "automatically, so retry in a few seconds."
    )
    retryable = True


class PermissionDeniedError(ExchangeError):
    default_message = (
        "This API key is not allowed to do that. On Bybit, give the key Read-Write access with "
        "'Contract - Orders' and 'Positions' permissions (and check its IP whitelist)."
    )


class RateLimitedError(ExchangeError):
    default_message = (
        "Bybit asked us to slow down. The request was not processed; retry after the wait."
    )
    retryable = True


class IpRateLimitedError(RateLimitedError):
    default_message = (
        "Bybit blocked this server's IP address for sending too many requests. All requests pause "
        "for several minutes; nothing was processed."
    )


class InsufficientBalanceError(ExchangeError):
    default_message = (
        "The account's available balance is too small for this order. Deposit funds, reduce the "
        "size or lower the leverage."
    )


class InvalidOrderError(ExchangeError):
    default_message = (
        "Bybit rejected the order's parameters (price, quantity, tick or lot size). Fix the order."
    )


class DuplicateOrderLinkIdError(ExchangeError):
    default_message = (
        "An order with this orderLinkId already exists. The earlier attempt reached Bybit: look it "
        "up instead of sending it again."
    )


class OrderNotFoundError(ExchangeError):
    default_message = "Bybit has no such order (or it is already filled or cancelled)."


class ExchangeUnavailableError(ExchangeError):
    default_message = (
        "Bybit is unavailable or under maintenance. Nothing was processed; retry later."
    )
    retryable = True


class UnknownOutcomeError(ExchangeError):
    """A write was sent and no answer came back: it may or may not have been applied."""

    default_message = (
        "The request reached the network but no reply came back, so it may or may not have been "
        "applied. Look the order up by its orderLinkId before doing anything else."
    )

    def __init__(
        self, message: str | None = None, *, order_link_id: str = "", **kw: object
    ) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.order_link_id = order_link_id

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "order_link_id": self.order_link_id}


class ExchangeRequestError(ExchangeError):
    default_message = "Bybit refused the request."


# retCode -> class. Sources: docs/v5/error.mdx (errors.json); pybit.md for the retry behaviour.
_AUTH = {
    10003: WrongEnvironmentError,
    10004: AuthenticationError,
    10002: TimestampError,
    33004: AuthenticationError,
    10007: AuthenticationError,
}
_PERMISSION = {
    10005: PermissionDeniedError,
    10010: PermissionDeniedError,
    10024: PermissionDeniedError,
}
_RATE = {10006: RateLimitedError, 10018: RateLimitedError, 10429: RateLimitedError}
_UNAVAILABLE = {10016: ExchangeUnavailableError, 10019: ExchangeUnavailableError}
_BALANCE = {110004, 110006, 110007, 110012, 110044, 110045, 110051, 110052, 110053, 170131}
_INVALID_ORDER = {
    110003,
    110017,
    110094,
    110092,
    110093,
    110020,
    110021,
    110022,
    110040,
    110041,
    110079,
    170136,
    170137,
    170140,
    10001,
}
_DUPLICATE = {110072, 170141, 10014}
_NOT_FOUND = {110001, 110008, 170213}

_MESSAGES: dict[int, str] = {
    10001: "Bybit rejected a parameter of the request",
    110003: "The order price is outside the range Bybit allows for this instrument now.",
    110017: "The quantity rounds down to zero (below the lot size) or there is nothing to reduce.",
    110094: "The order value is below the instrument's minimum notional.",
    110020: "The account already has the maximum number of open orders on Bybit.",
}


def error_for_ret_code(
    ret_code: int,
    exchange_message: str,
    *,
    endpoint: str = "",
    retry_after: float | None = None,
) -> ExchangeError:
    """The typed error for a non-zero Bybit retCode. ``exchange_message`` is kept for operators."""
    cls: type[ExchangeError]
    message: str | None = None
    if ret_code in _AUTH:
        cls = _AUTH[ret_code]
    elif ret_code in _PERMISSION:
        cls = _PERMISSION[ret_code]
    elif ret_code in _RATE:
        cls = _RATE[ret_code]
        retry_after = retry_after if retry_after is not None else 1.0
    elif ret_code in _UNAVAILABLE:
        cls = _UNAVAILABLE[ret_code]
        retry_after = retry_after if retry_after is not None else 2.0
    elif ret_code in _BALANCE:
        cls = InsufficientBalanceError
    elif ret_code in _DUPLICATE:
        cls = DuplicateOrderLinkIdError
    elif ret_code in _NOT_FOUND:
        cls = OrderNotFoundError
    elif ret_code in _INVALID_ORDER and (ret_code != 10001 or endpoint.startswith("/v5/order")):
        cls = InvalidOrderError
        base = _MESSAGES.get(ret_code)
        # Bybit's own text names the offending field ("qty must be a multiple of qtyStep"), and
        # never contains key material, so it is the most actionable thing to show here.
        message = (
            f"{base or InvalidOrderError.default_message} Bybit says: {_clean(exchange_message)}"
        )
    else:
        cls = ExchangeRequestError
        message = f"Bybit refused the request: {_clean(exchange_message)}"
    return cls(
        message,
        ret_code=ret_code,
        exchange_message=_clean(exchange_message),
        retry_after=retry_after,
        endpoint=endpoint,
    )


def _clean(text: str) -> str:
    """Bybit echoes the signed string on 10004 ("origin_string[...]"), which holds the API key."""
    if "origin_string" in text:
        return text.split("origin_string", 1)[0].rstrip(" !:[")
    return text[:300]
