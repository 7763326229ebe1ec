"""The only module that imports pybit: one signed HTTP session per key, errors made typed.

pybit is configured so that it never re-sends anything by itself:
- ``max_retries=1`` and an empty ``retry_codes`` (set after construction, see below): pybit's own retry loop (which re-sends the same body
  on 10002/10006 and *sleeps in the calling thread* until the rate-limit reset) is off; the gateway
  decides what to retry, and the shared limiter does the waiting;
- ``force_retry=False``: a timeout or dropped connection is raised, never blindly retried, because
  for a write it means "unknown outcome";
- ``log_requests=False``: pybit would log signed headers;
- ``return_response_headers=True``: the limiter reads ``X-Bapi-Limit*``.

Signatures use the measured server-time offset (``exchange.clock``) instead of the raw local clock.
The base URL comes from settings per environment (``EXCHANGE_REST_URLS``), which is how the same
code talks to mainnet, testnet, demo trading or the local simulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP

from exchange.errors import (
    ExchangeError,
    ExchangeRequestError,
    ExchangeUnavailableError,
    IpRateLimitedError,
    UnknownOutcomeError,
    error_for_ret_code,
)
from tradingsvc.lib.secret import Secret

SERVER_ERROR = 10016

# pybit method per (HTTP method, path); the gateway speaks paths, which are also the limiter's keys.
METHODS: dict[str, tuple[str, bool]] = {
    "/v5/market/time": ("get_server_time", False),
    "/v5/market/kline": ("get_kline", False),
    "/v5/market/tickers": ("get_tickers", False),
    "/v5/market/instruments-info": ("get_instruments_info", False),
    "/v5/user/query-api": ("get_api_key_information", True),
    "/v5/account/wallet-balance": ("get_wallet_balance", True),
    "/v5/account/transaction-log": ("get_transaction_log", True),
    "/v5/order/create": ("place_order", True),
    "/v5/order/amend": ("amend_order", True),
    "/v5/order/cancel": ("cancel_order", True),
    "/v5/order/cancel-all": ("cancel_all_orders", True),
    "/v5/order/realtime": ("get_open_orders", True),
    "/v5/order/history": ("get_order_history", True),
    "/v5/execution/list": ("get_executions", True),
    "/v5/position/list": ("get_positions", True),
    "/v5/position/closed-pnl": ("get_closed_pnl", True),
    "/v5/position/set-leverage": ("set_leverage", True),
    "/v5/position/trading-stop": ("set_trading_stop", True),
}


class _SignedHTTP(HTTP):  # type: ignore[misc]
    """pybit's HTTP with the server-time offset applied and a repr that shows no key."""

    offset_provider: Callable[[], int] = staticmethod(lambda: 0)

    def _prepare_headers(
        self, payload: Any, recv_window: int, content_type: str = "application/json"
    ) -> dict[str, str]:
        timestamp = int(time.time() * 1000) + self.offset_provider()
        signature = self._auth(payload=payload, recv_window=recv_window, timestamp=timestamp)
        return {
            "Content-Type": content_type,
            "X-BAPI-API-KEY": self.api_key,
            "X-BAPI-SIGN": signature,
            "X-BAPI-SIGN-TYPE": "2",
            "X-BAPI-TIMESTAMP": str(timestamp),
            "X-BAPI-RECV-WINDOW": str(recv_window),
        }

    def __repr__(self) -> str:
        return f"<BybitHTTP {self.endpoint}>"


class BybitClient:
    """One pybit session (one key, or none for public data) on one base URL."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: Secret | None = None,
        api_secret: Secret | None = None,
        timeout: float = 10.0,
        recv_window: int = 5000,
        offset_provider: Callable[[], int] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._offset_provider = offset_provider or (lambda: 0)
        session = _SignedHTTP(
            testnet=False,
            api_key=api_key.reveal() if api_key is not None else None,
            api_secret=api_secret.reveal() if api_secret is not None else None,
            timeout=timeout,
            recv_window=recv_window,
            max_retries=1,
            retry_codes=set(),
            force_retry=False,
            log_requests=False,
            return_response_headers=True,
        )
        session.endpoint = self.base_url
        # pybit replaces an empty ``retry_codes`` with its defaults in __post_init__ (falsy check),
        # so the constructor argument alone would leave 10002/10006 re-sends and sleeps on.
        session.retry_codes = frozenset()
        session.offset_provider = self._offset_provider
        self._http = session

    def __repr__(self) -> str:
        return f"<BybitClient {self.base_url}>"

    def call(
        self, path: str, params: Mapping[str, Any], *, write: bool
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """Send one request; returns (``result`` of the envelope, response headers).

        Raises a typed :class:`ExchangeError`. For ``write=True`` any failure after the request
        may have left this machine is :class:`UnknownOutcomeError`.
        """
        name, _signed = METHODS[path]
        fn = getattr(self._http, name)
        try:
            body, _elapsed, headers = fn(**params)
        except InvalidRequestError as exc:
            resp_headers = dict(exc.resp_headers or {})
            if write and int(exc.status_code) == SERVER_ERROR and "restart" not in str(exc.message):
                # 10016 "Server error" on a write: the same doubt as an HTTP 5xx (see _failed).
                # "Service is restarting" (maintenance) is refused up front and stays unavailable.
                raise UnknownOutcomeError(
                    "Bybit reported an internal error while handling the request, so it may or "
                    "may not have been applied. Look the order up by its orderLinkId.",
                    ret_code=SERVER_ERROR,
                    endpoint=path,
                ) from None
            err = error_for_ret_code(
                int(exc.status_code),
                str(exc.message),
                endpoint=path,
                retry_after=self._retry_after(resp_headers, int(exc.status_code)),
            )
            err.response_headers = resp_headers
            raise err from None
        except FailedRequestError as exc:
            raise self._failed(exc, path, write) from None
        except requests.exceptions.ConnectTimeout:
            raise ExchangeUnavailableError(
                "Could not connect to Bybit (timed out); nothing was sent.",
                endpoint=path,
                retry_after=2.0,
            ) from None
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
            if _never_sent(exc):
                raise ExchangeUnavailableError(
                    "Could not connect to Bybit; nothing was sent.", endpoint=path, retry_after=2.0
                ) from None
            if write:
                raise UnknownOutcomeError(endpoint=path) from None
            raise ExchangeUnavailableError(
                "Bybit did not answer in time.", endpoint=path, retry_after=1.0
            ) from None
        result = body.get("result")
        return (result if isinstance(result, dict) else {}), headers

    def _retry_after(self, headers: Mapping[str, str], code: int) -> float | None:
        if code != 10006:
            return None
        reset = headers.get("X-Bapi-Limit-Reset-Timestamp", "")
        if not reset.isdigit():
            return 1.0
        server_now = time.time() * 1000 + self._offset_provider()
        return max((int(reset) - server_now) / 1000, 0.05)

    @staticmethod
    def _failed(exc: FailedRequestError, path: str, write: bool) -> ExchangeError:
        status = int(exc.status_code or 0)
        if status == 403:
            return IpRateLimitedError(http_status=403, endpoint=path, retry_after=600.0)
        if write and status >= 500 and status != 503:
            # A proxy's 500/502/504 can come after the matching engine took the order: for a write
            # that is not "nothing happened", it is "we do not know".
            return UnknownOutcomeError(
                f"Bybit answered HTTP {status} after receiving the request, so it may or may not "
                "have been applied. Look the order up by its orderLinkId before doing anything "
                "else.",
                http_status=status,
                endpoint=path,
            )
        if status >= 500 or status in (408, 429):
            return ExchangeUnavailableError(http_status=status, endpoint=path, retry_after=2.0)
        if status == 409:  # pybit: the 200 reply was not JSON
            if write:
                return UnknownOutcomeError(
                    "Bybit's reply could not be read, so the request may or may not have been "
                    "applied. Look the order up by its orderLinkId.",
                    endpoint=path,
                )
            return ExchangeUnavailableError(
                "Bybit's reply could not be read.", endpoint=path, retry_after=1.0
            )
        return ExchangeRequestError(
            f"Bybit answered HTTP {status}.", http_status=status, endpoint=path
        )


def _never_sent(exc: BaseException) -> bool:
    """True when the connection was refused before any byte of the request left."""
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text
