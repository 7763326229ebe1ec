"""The exchange gateway: the small typed interface the rest of tradingsvc uses to talk to Bybit v5.

Build one with :meth:`ExchangeGateway.for_connection` (a saved ``ExchangeConnection``),
:meth:`ExchangeGateway.for_credentials` (an environment and a key not saved yet, e.g. while
validating it) or :meth:`ExchangeGateway.public` (market data only). Every input and result is a
dataclass from ``exchange.types``: ``Decimal`` money, aware UTC datetimes. Every failure is a typed
error from ``exchange.errors`` with a message a person can act on and never a secret.

Interface (all methods synchronous; safe to call from Celery tasks):

account
    ``api_key_info() -> ApiKeyInfo``          /v5/user/query-api (uid, read_only, permissions, ...)
    ``wallet_balance() -> WalletBalance``     /v5/account/wallet-balance?accountType=UNIFIED
    ``transaction_log(start=, end=, cursor=) -> Page[TransactionLogEntry]``
market data (public; the IP budget only)
    ``server_time() -> datetime``, ``instruments(symbol=None) -> list[Instrument]``,
    ``klines(symbol, interval, start=, end=, limit=) -> list[Kline]`` (oldest first),
    ``tickers(symbol=None) -> list[Ticker]``; cached rules and quantising in ``exchange.instruments``
orders (writes are sent once; a lost reply raises ``UnknownOutcomeError``: resolve it with
``get_order(symbol, order_link_id=...)``, never by sending again)
    ``place_order(OrderRequest) -> OrderAck``, ``amend_order(...)``, ``cancel_order(...)``,
    ``cancel_all_orders(symbol=None) -> list[OrderAck]``,
    ``get_order(symbol, order_link_id=|order_id=) -> Order | None`` (realtime, then history),
    ``open_orders(symbol=None) -> list[Order]``,
    ``executions(since=, cursor=, symbol=) -> Page[Execution]``, ``executions_since(since) -> list``
positions
    ``positions(symbol=None) -> list[Position]``, ``closed_pnl(...) -> Page[ClosedPnl]``,
    ``set_leverage(symbol, leverage)`` (already-set counts as done), ``set_trading_stop(...)``

Behaviour every call shares:
- the shared Redis limiter admits the request first (per account and endpoint, and per egress IP),
  and learns from ``X-Bapi-Limit*`` headers; 10006 blocks the bucket until Bybit's reset time;
- reads are retried (``EXCHANGE_READ_ATTEMPTS``) with jittered backoff on rate limits, 5xx/10016 and
  timeouts; writes are never retried except after a 10002 (rejected before processing, once the
  clock offset is re-measured). A write answered by a timeout, a dropped connection, HTTP
  500/502/504 or 10016 "Server error" raises ``UnknownOutcomeError``; HTTP 503 and 10016 "Service is
  restarting" (refused up front) raise ``ExchangeUnavailableError``;
- signatures use the measured server-time offset (``exchange.clock``).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from django.conf import settings
from django.utils import timezone

from exchange import clock, parsing
from exchange.bybit_client import METHODS, BybitClient
from exchange.errors import (
    ExchangeError,
    ExchangeUnavailableError,
    IpRateLimitedError,
    RateLimitedError,
    TimestampError,
    UnknownOutcomeError,
)
from exchange.limiter import RateLimiter, get_limiter
from exchange.types import (
    ApiKeyInfo,
    ClosedPnl,
    Execution,
    Instrument,
    Kline,
    Order,
    OrderAck,
    OrderRequest,
    Page,
    Position,
    Ticker,
    TransactionLogEntry,
    WalletBalance,
    dt_to_ms,
    ms_to_dt,
)
from tradingsvc.lib.secret import Secret

if TYPE_CHECKING:
    from exchange.credentials import Credentials
    from exchange.models import ExchangeConnection

log = structlog.stdlib.get_logger(__name__)

CATEGORY = "linear"
LEVERAGE_NOT_MODIFIED = 110043


T = TypeVar("T")
# Bybit serves executions at most 7 days from startTime (docs/v5/order/execution).
EXECUTION_WINDOW = timedelta(days=7) - timedelta(milliseconds=1)


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def account_key_for(api_key: Secret, exchange_uid: str = "") -> str:
    """The limiter's account name: Bybit's UID when known, else a digest of the key (never the key)."""
    if exchange_uid:
        return f"uid-{exchange_uid}"
    return "key-" + hashlib.sha256(api_key.reveal().encode()).hexdigest()[:16]


class ExchangeGateway:
    """One key (or none) on one environment. Cheap to keep; build with the class methods."""

    def __init__(
        self,
        *,
        environment: str,
        api_key: Secret | None = None,
        api_secret: Secret | None = None,
        account: str | None = None,
        limiter: RateLimiter | None = None,
        use_limiter: bool = True,
        clock_sync: bool = True,
        read_attempts: int | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.environment = str(environment)
        self.base_url = (base_url or settings.EXCHANGE_REST_URLS[self.environment]).rstrip("/")
        self.account = account or (account_key_for(api_key) if api_key is not None else None)
        self.limiter = (limiter or get_limiter()) if use_limiter else None
        self.clock_sync = clock_sync
        self.read_attempts = read_attempts or int(settings.EXCHANGE_READ_ATTEMPTS)
        self.client = BybitClient(
            base_url=self.base_url,
            api_key=api_key,
            api_secret=api_secret,
            timeout=timeout or float(settings.EXCHANGE_HTTP_TIMEOUT_SECONDS),
            recv_window=int(settings.EXCHANGE_RECV_WINDOW_MS),
            offset_provider=self._offset if clock_sync else None,
        )

    def __repr__(self) -> str:
        return f"<ExchangeGateway {self.environment} {self.account or 'public'}>"

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def for_connection(cls, connection: ExchangeConnection, **kwargs: Any) -> ExchangeGateway:
        """The gateway of a saved connection (opens its sealed key pair)."""
        from exchange.credentials import credentials_open

        creds = credentials_open(connection)
        return cls(
            environment=connection.environment,
            api_key=creds.api_key,
            api_secret=creds.api_secret,
            account=account_key_for(creds.api_key, connection.exchange_uid),
            **kwargs,
        )

    @classmethod
    def for_credentials(
        cls, environment: str, credentials: Credentials, **kwargs: Any
    ) -> ExchangeGateway:
        """A gateway for a key that is not saved yet (key validation)."""
        return cls(
            environment=environment,
            api_key=credentials.api_key,
            api_secret=credentials.api_secret,
            **kwargs,
        )

    @classmethod
    def public(cls, environment: str, **kwargs: Any) -> ExchangeGateway:
        """Market data only (no key)."""
        return cls(environment=environment, **kwargs)

    # --- plumbing -------------------------------------------------------------------------------
    def _offset(self) -> int:
        return clock.offset_ms(self.base_url, self._probe_server_ms)

    def _probe_server_ms(self) -> int:
        result = self._call("/v5/market/time", {})
        return int(result["timeNano"]) // 1_000_000

    def sync_clock(self) -> int:
        """Measure the server-time offset now (ms, server minus local)."""
        return clock.measure(self.base_url, self._probe_server_ms)

    def _call(self, path: str, params: Mapping[str, Any], *, write: bool = False) -> dict[str, Any]:
        signed = METHODS[path][1]
        account = self.account if signed else None
        attempts = 1 if write else self.read_attempts
        clock_retried = False
        attempt = 0
        while True:
            attempt += 1
            permit = None
            if self.limiter is not None:
                permit = self.limiter.acquire(
                    environment=self.environment, endpoint=path, account=account
                )
            try:
                sent = time.monotonic()
                try:
                    result, headers = self.client.call(path, params, write=write)
                finally:
                    if permit is not None and self.limiter is not None:
                        self.limiter.settle(permit, time.monotonic() - sent)
            except TimestampError:
                # 10002 is decided before Bybit processes anything, so one re-send with a freshly
                # measured offset is safe even for a write.
                if not self.clock_sync or clock_retried:
                    raise
                clock_retried = True
                clock.forget(self.base_url)
                attempt -= 1
                continue
            except IpRateLimitedError:
                if self.limiter is not None:
                    self.limiter.block_egress(environment=self.environment)
                raise
            except RateLimitedError as exc:
                if self.limiter is not None and account is not None:
                    self.limiter.block_until_reset(
                        environment=self.environment,
                        endpoint=path,
                        account=account,
                        headers=exc.response_headers,
                        offset_ms=self._offset_cached(),
                    )
                if write or attempt >= attempts:
                    raise
                log.info("exchange.read_rate_limited", endpoint=path, attempt=attempt)
                continue  # the limiter now holds us until the reset
            except ExchangeUnavailableError as exc:
                if write or attempt >= attempts:
                    raise
                self._backoff(attempt, exc)
                continue
            if self.limiter is not None and account is not None and headers:
                self.limiter.observe(
                    environment=self.environment,
                    endpoint=path,
                    account=account,
                    headers=headers,
                    offset_ms=self._offset_cached(),
                )
            return result

    def _offset_cached(self) -> int:
        return clock.offset_ms(self.base_url, None) if self.clock_sync else 0

    @staticmethod
    def _backoff(attempt: int, exc: ExchangeError) -> None:
        base = min(0.25 * 2 ** (attempt - 1), 4.0)
        if exc.retry_after:
            base = min(base, exc.retry_after)
        time.sleep(base + random.uniform(0, base / 2))  # noqa: S311 - jitter

    # --- market data ----------------------------------------------------------------------------
    def _paged(
        self, path: str, params: dict[str, Any], parse: Callable[[dict[str, Any]], T]
    ) -> Page[T]:
        """One page of a cursor-paged list endpoint."""
        result = self._call(path, _drop_none(params))
        return Page(
            [parse(r) for r in result.get("list") or []], result.get("nextPageCursor") or ""
        )

    def server_time(self) -> datetime:
        result = self._call("/v5/market/time", {})
        value = ms_to_dt(int(result["timeNano"]) // 1_000_000)
        assert value is not None  # noqa: S101
        return value

    def instruments(self, symbol: str | None = None) -> list[Instrument]:
        out: list[Instrument] = []
        cursor = ""
        while True:
            params: dict[str, Any] = {"category": CATEGORY, "limit": 1000}
            if symbol:
                params["symbol"] = symbol
            if cursor:
                params["cursor"] = cursor
            result = self._call("/v5/market/instruments-info", params)
            out += [parsing.instrument(r) for r in result.get("list") or []]
            cursor = result.get("nextPageCursor") or ""
            if not cursor or symbol:
                return out

    def klines(
        self,
        symbol: str,
        interval: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 200,
    ) -> list[Kline]:
        """Candles oldest first. The newest may still be forming (see ``exchange.candles``)."""
        params: dict[str, Any] = {
            "category": CATEGORY,
            "symbol": symbol,
            "interval": interval,
            "limit": limit,
        }
        if start is not None:
            params["start"] = dt_to_ms(start)
        if end is not None:
            params["end"] = dt_to_ms(end)
        result = self._call("/v5/market/kline", params)
        rows = result.get("list") or []
        return [parsing.kline(symbol, interval, row) for row in reversed(rows)]

    def tickers(self, symbol: str | None = None) -> list[Ticker]:
        params: dict[str, Any] = {"category": CATEGORY}
        if symbol:
            params["symbol"] = symbol
        result = self._call("/v5/market/tickers", params)
        return [parsing.ticker(r) for r in result.get("list") or []]

    # --- account --------------------------------------------------------------------------------
    def api_key_info(self) -> ApiKeyInfo:
        return parsing.api_key_info(self._call("/v5/user/query-api", {}))

    def wallet_balance(self) -> WalletBalance:
        result = self._call("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
        return parsing.wallet_balance(result)

    def transaction_log(
        self, *, start: datetime | None = None, end: datetime | None = None, cursor: str = ""
    ) -> Page[TransactionLogEntry]:
        params = {"accountType": "UNIFIED", "limit": 50, **_window(start, end, cursor)}
        return self._paged("/v5/account/transaction-log", params, parsing.transaction)

    def transaction_log_since(
        self, since: datetime, *, types: frozenset[str] | None = None
    ) -> tuple[list[TransactionLogEntry], datetime]:
        """Every transaction-log entry from ``since`` on, all pages, oldest first.

        Bybit answers at most 7 days a request and keeps two years, so a long gap is walked window
        by window up to the exchange's now; past it, windows are walked on while they still hold
        entries (an exchange whose records run ahead of its server time, as a stepped simulator's
        do, would otherwise be cut short; on Bybit that is one empty request). Returns the entries
        and the exchange's server time at the start of the walk.
        """
        now = self.server_time()
        out: dict[str, TransactionLogEntry] = {}
        window_start = since
        while True:
            window_end = window_start + EXECUTION_WINDOW
            found = 0
            cursor = ""
            while True:
                page = self.transaction_log(start=window_start, end=window_end, cursor=cursor)
                found += len(page.items)
                for entry in page.items:
                    if types is None or entry.type in types:
                        out[entry.id] = entry  # an entry on a window edge comes back twice
                cursor = page.next_cursor
                if not cursor or not page.items:
                    break
            if window_end >= now and not found:
                break
            window_start = window_end
        entries = sorted(out.values(), key=lambda e: (e.transaction_time or now, e.id))
        return entries, now

    # --- orders ---------------------------------------------------------------------------------
    def place_order(self, order: OrderRequest) -> OrderAck:
        """Send a new order once. ``UnknownOutcomeError`` (with ``order_link_id``) if no reply."""
        if not order.order_link_id:
            raise ValueError("orderLinkId is required: it is how a lost reply gets resolved")
        params: dict[str, Any] = {
            "category": order.category,
            "symbol": order.symbol,
            "side": order.side,
            "orderType": order.order_type,
            "qty": _num(order.qty),
            "price": _num(order.price),
            "timeInForce": order.time_in_force,
            "orderLinkId": order.order_link_id,
            "takeProfit": _num(order.take_profit),
            "stopLoss": _num(order.stop_loss),
            "triggerPrice": _num(order.trigger_price),
            "triggerDirection": order.trigger_direction,
        }
        if order.reduce_only:
            params["reduceOnly"] = True
        try:
            result = self._call("/v5/order/create", _drop_none(params), write=True)
        except UnknownOutcomeError as exc:
            exc.order_link_id = order.order_link_id
            log.warning(
                "exchange.order_outcome_unknown",
                order_link_id=order.order_link_id,
                symbol=order.symbol,
            )
            raise
        return OrderAck(result.get("orderId", ""), result.get("orderLinkId", order.order_link_id))

    def amend_order(
        self,
        symbol: str,
        *,
        order_link_id: str = "",
        order_id: str = "",
        qty: Decimal | None = None,
        price: Decimal | None = None,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
    ) -> OrderAck:
        params = _drop_none(
            {
                "category": CATEGORY,
                "symbol": symbol,
                "orderId": order_id or None,
                "orderLinkId": order_link_id or None,
                "qty": _num(qty),
                "price": _num(price),
                "takeProfit": _num(take_profit),
                "stopLoss": _num(stop_loss),
            }
        )
        result = self._write_with_link("/v5/order/amend", params, order_link_id)
        return OrderAck(result.get("orderId", ""), result.get("orderLinkId", order_link_id))

    def cancel_order(self, symbol: str, *, order_link_id: str = "", order_id: str = "") -> OrderAck:
        params = _drop_none(
            {
                "category": CATEGORY,
                "symbol": symbol,
                "orderId": order_id or None,
                "orderLinkId": order_link_id or None,
            }
        )
        result = self._write_with_link("/v5/order/cancel", params, order_link_id)
        return OrderAck(result.get("orderId", ""), result.get("orderLinkId", order_link_id))

    def cancel_all_orders(self, symbol: str | None = None) -> list[OrderAck]:
        params: dict[str, Any] = {"category": CATEGORY}
        if symbol:
            params["symbol"] = symbol
        else:
            params["settleCoin"] = "USDT"
        result = self._call("/v5/order/cancel-all", params, write=True)
        return [
            OrderAck(r.get("orderId", ""), r.get("orderLinkId", ""))
            for r in result.get("list") or []
        ]

    def _write_with_link(
        self, path: str, params: dict[str, Any], order_link_id: str
    ) -> dict[str, Any]:
        try:
            return self._call(path, params, write=True)
        except UnknownOutcomeError as exc:
            exc.order_link_id = order_link_id
            raise

    def get_order(
        self, symbol: str, *, order_link_id: str = "", order_id: str = ""
    ) -> Order | None:
        """One order by its ids: open orders and the latest 500 closed first, then history.

        None means Bybit knows no such order (history keeps cancelled/rejected ones only 24 h).
        """
        if not (order_link_id or order_id):
            raise ValueError("give order_link_id or order_id")
        params = _drop_none(
            {
                "category": CATEGORY,
                "symbol": symbol,
                "orderLinkId": order_link_id or None,
                "orderId": order_id or None,
            }
        )
        for path in ("/v5/order/realtime", "/v5/order/history"):
            rows = self._call(path, params).get("list") or []
            if rows:
                return parsing.order(rows[0])
        return None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        out: list[Order] = []
        cursor = ""
        while True:
            params: dict[str, Any] = {"category": CATEGORY, "limit": 50}
            if symbol:
                params["symbol"] = symbol
            else:
                params["settleCoin"] = "USDT"
            if cursor:
                params["cursor"] = cursor
            result = self._call("/v5/order/realtime", params)
            out += [parsing.order(r) for r in result.get("list") or []]
            cursor = result.get("nextPageCursor") or ""
            if not cursor:
                return out

    def executions(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str = "",
        symbol: str | None = None,
        limit: int = 100,
    ) -> Page[Execution]:
        """Fills, newest first, one page. ``since``/``until`` span at most 7 days (Bybit's rule)."""
        params = {
            "category": CATEGORY,
            "limit": limit,
            "symbol": symbol or None,
            **_window(since, until, cursor),
        }
        return self._paged("/v5/execution/list", params, parsing.execution)

    def executions_since(self, since: datetime, *, symbol: str | None = None) -> list[Execution]:
        """Every fill from ``since`` on (all pages), oldest first: the catch-up after a reconnect.

        Bybit answers at most 7 days from ``startTime``, so a longer gap is walked window by window
        up to now; otherwise a quiet account's newer fills would be missed.
        """
        out: list[Execution] = []
        window_start = since
        now = timezone.now()
        while True:
            window_end = window_start + EXECUTION_WINDOW
            cursor = ""
            while True:
                page = self.executions(
                    since=window_start, until=window_end, cursor=cursor, symbol=symbol
                )
                out += page.items
                cursor = page.next_cursor
                if not cursor or not page.items:
                    break
            if window_end >= now:
                break
            window_start = window_end
        unique = {e.exec_id: e for e in out}  # a fill on a window edge comes back twice
        return sorted(unique.values(), key=lambda e: (e.exec_time, e.exec_id))

    # --- positions ------------------------------------------------------------------------------
    def positions(self, symbol: str | None = None) -> list[Position]:
        """One symbol's position (listed even when flat), or every open one (all pages).

        By ``settleCoin`` Bybit lists only positions with a size: a symbol missing from that list
        is flat, which is only true if no page was left unread.
        """
        out: list[Position] = []
        cursor = ""
        while True:
            params: dict[str, Any] = {
                "category": CATEGORY,
                "limit": 200,
                "symbol": symbol or None,
                "settleCoin": None if symbol else "USDT",
                "cursor": cursor or None,
            }
            page = self._paged("/v5/position/list", params, parsing.position)
            out += page.items
            cursor = page.next_cursor
            if not cursor or not page.items:
                return out

    def closed_pnl(
        self,
        *,
        symbol: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        cursor: str = "",
    ) -> Page[ClosedPnl]:
        params = {
            "category": CATEGORY,
            "limit": 100,
            "symbol": symbol or None,
            **_window(start, end, cursor),
        }
        return self._paged("/v5/position/closed-pnl", params, parsing.closed_pnl)

    def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        """Set both sides' leverage; "not modified" (110043) means it already is, so that is fine."""
        text = format(leverage, "f")
        try:
            self._call(
                "/v5/position/set-leverage",
                {"category": CATEGORY, "symbol": symbol, "buyLeverage": text, "sellLeverage": text},
                write=True,
            )
        except ExchangeError as exc:
            if exc.ret_code != LEVERAGE_NOT_MODIFIED:
                raise

    def set_trading_stop(
        self,
        symbol: str,
        *,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
        trailing_stop: Decimal | None = None,
    ) -> None:
        """Position TP/SL (``"0"`` cancels one); ``tpslMode`` Full, position index 0 (one-way)."""
        params = _drop_none(
            {
                "category": CATEGORY,
                "symbol": symbol,
                "tpslMode": "Full",
                "positionIdx": 0,
                "takeProfit": _num(take_profit),
                "stopLoss": _num(stop_loss),
                "trailingStop": _num(trailing_stop),
            }
        )
        self._call("/v5/position/trading-stop", params, write=True)


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _window(start: datetime | None, end: datetime | None, cursor: str) -> dict[str, Any]:
    """Bybit's time window and cursor parameters; absent ones are left out by ``_paged``."""
    return {
        "startTime": dt_to_ms(start) if start is not None else None,
        "endTime": dt_to_ms(end) if end is not None else None,
        "cursor": cursor or None,
    }


# A small per-process cache so tasks do not re-open sealed keys and rebuild sessions every call.
_gateways: dict[tuple[int, str, str, str], ExchangeGateway] = {}


def gateway_for_connection(connection: ExchangeConnection) -> ExchangeGateway:
    """The cached gateway of a connection; a new key, uid or environment builds a new one."""
    cache_key = (
        int(connection.pk),
        connection.environment,
        connection.exchange_uid,
        hashlib.sha256(connection.api_key_sealed.encode()).hexdigest()[:16],
    )
    gateway = _gateways.get(cache_key)
    if gateway is None:
        if len(_gateways) > 2000:
            _gateways.clear()
        gateway = ExchangeGateway.for_connection(connection)
        _gateways[cache_key] = gateway
    return gateway
