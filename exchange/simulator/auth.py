"""Bybit v5 request signing, checked over the exact bytes the client sent.

REST: HMAC-SHA256(secret, timestamp + api_key + recv_window + payload), lowercase hex, where payload
is the raw query string (GET) or the raw body (POST) as received: never re-parsed, re-ordered or
re-serialised, because clients differ in ordering and JSON spacing. WebSocket: the same HMAC over
``"GET/realtime" + expires``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from exchange.simulator import errors as e
from exchange.simulator.errors import BybitError
from exchange.simulator.records import ApiKey

DEFAULT_RECV_WINDOW = 5000


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def check_rest(
    headers: Mapping[str, str],
    payload: str,
    server_ms: int,
    lookup: object,
) -> ApiKey:
    """Authenticate a signed REST request or raise the retCode Bybit gives for the failure.

    ``lookup`` is a callable ``api_key -> ApiKey | None``.
    """
    api_key = headers.get("X-BAPI-API-KEY", "")
    sign_header = headers.get("X-BAPI-SIGN", "")
    ts_text = headers.get("X-BAPI-TIMESTAMP", "")
    rw_text = headers.get("X-BAPI-RECV-WINDOW", str(DEFAULT_RECV_WINDOW))
    if not api_key or not sign_header or not ts_text:
        raise BybitError(
            e.PARAM_ERROR,
            "Missing some parameters that must be filled in, "
            "X-BAPI-API-KEY, X-BAPI-SIGN, X-BAPI-TIMESTAMP are required",
        )
    try:
        ts = int(ts_text)
        recv_window = int(rw_text)
    except ValueError:
        raise BybitError(e.PARAM_ERROR, "params error: timestamp or recv_window invalid") from None
    if not (server_ms - recv_window <= ts < server_ms + 1000):
        raise BybitError(
            e.TIMESTAMP_ERROR,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{ts}],server_timestamp[{server_ms}],recv_window[{recv_window}]",
        )
    key = lookup(api_key) if callable(lookup) else None
    if not isinstance(key, ApiKey):
        raise e.error(e.INVALID_KEY)
    expected = sign(key.secret, f"{ts_text}{api_key}{rw_text}{payload}")
    if not hmac.compare_digest(expected, sign_header.lower()):
        raise BybitError(
            e.SIGN_ERROR,
            f"error sign! origin_string[{ts_text}{api_key}{rw_text}{payload}]",
        )
    return key


def check_ws(key: ApiKey | None, expires: object, signature: object, server_ms: int) -> str | None:
    """Validate a WebSocket ``auth`` op; returns an error text, or None when it passes."""
    if key is None:
        return "Invalid apikey"
    if not isinstance(expires, int | str) or not str(expires).lstrip("-").isdigit():
        return "Params Error"
    if int(expires) <= server_ms:
        return "Params Error: expires is expired"
    expected = sign(key.secret, f"GET/realtime{expires}")
    if not isinstance(signature, str) or not hmac.compare_digest(expected, signature.lower()):
        return "Invalid sign"
    return None
