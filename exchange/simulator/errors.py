"""Bybit answers that are not a success, raised from anywhere and turned into an envelope once."""

from __future__ import annotations


class BybitError(Exception):
    """A business error: HTTP 200 with a non-zero retCode, exactly as Bybit answers it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# Bybit's own wording where the docs (docs/v5/error.mdx) or observed replies give it.
PARAM_ERROR = 10001
TIMESTAMP_ERROR = 10002
INVALID_KEY = 10003
SIGN_ERROR = 10004
PERMISSION_DENIED = 10005
TOO_MANY_VISITS = 10006
SERVER_ERROR = 10016
ROUTE_NOT_FOUND = 10017
ORDER_NOT_EXISTS = 110001
INSUFFICIENT_AVAILABLE = 110007
ORDER_FINISHED = 110008
REDUCE_ONLY_ZERO = 110017
LEVERAGE_NOT_MODIFIED = 110043
DUPLICATE_LINK_ID = 110072
TRIGGER_RISING = 110092
TRIGGER_FALLING = 110093
NOTIONAL_TOO_LOW = 110094
PRICE_OUT_OF_RANGE = 110003
POSITION_MODE_NOT_MODIFIED = 110025
TOO_MANY_ORDERS = 110020

MESSAGES = {
    INVALID_KEY: (
        "API key is invalid. Check whether the key and domain are matched, there are 4 env: "
        "mainnet, testnet, mainnet-demo, testnet-demo"
    ),
    PERMISSION_DENIED: "Permission denied, please check your API key permissions.",
    TOO_MANY_VISITS: "Too many visits!",
    ROUTE_NOT_FOUND: "Route not found.",
    ORDER_NOT_EXISTS: "Order does not exist",
    INSUFFICIENT_AVAILABLE: "Available balance is insufficient",
    ORDER_FINISHED: "The order has been completed or cancelled.",
    LEVERAGE_NOT_MODIFIED: "Set leverage has not been modified.",
    DUPLICATE_LINK_ID: "OrderLinkedID is duplicate",
    NOTIONAL_TOO_LOW: "Order notional value below the lower limit",
    PRICE_OUT_OF_RANGE: "Order price exceeds the allowable range.",
    POSITION_MODE_NOT_MODIFIED: "Position mode has not been modified.",
    TOO_MANY_ORDERS: "Not allowed to have more than 500 active orders.",
}


def error(code: int, message: str | None = None) -> BybitError:
    """Build the error with Bybit's documented message unless a more precise one is given."""
    return BybitError(code, message if message is not None else MESSAGES.get(code, "error"))


class MarginModeError(BybitError):
    """Bybit's 3400045 answer to set-margin-mode, which carries its reasons in ``result``."""

    def __init__(self, reason_code: str, reason: str) -> None:
        super().__init__(3400045, "Set margin mode failed")
        self.result = {"reasons": [{"reasonCode": reason_code, "reasonMsg": reason}]}
