"""Bots as rows: risk templates, bots, their ticks, order intents, positions, equity, protection.

A bot is not a process: it is a row that Celery workers tick once per closed candle of its
timeframe. Everything a tick does is fenced by a unique row (one ``BotTick`` per bot and candle,
one ``OrderIntent`` per deterministic ``orderLinkId``), so a redelivered or duplicated task finds
its earlier work and continues instead of repeating it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant, TenantOwnedQuerySet, User
from exchange.models import ExchangeAccount, ExchangeConnection

MONEY_MAX_DIGITS, MONEY_DECIMAL_PLACES = 30, 10  # up to 20 digits before the point, 10 after


def money_value() -> models.DecimalField[Decimal, Decimal]:
    """The output field of a money expression (a sum, a subquery), as precise as ``money_field``."""
    return models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)


def money_field(**options: Any) -> models.DecimalField[Any, Any]:
    """Prices, quantities and amounts: up to 20 digits before the point, 10 after."""
    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **options
    )


def fraction_field(**options: Any) -> models.DecimalField[Any, Any]:
    """Ratios and multiples such as 0.01 (1 %) or 3 (x equity)."""
    return models.DecimalField(max_digits=12, decimal_places=6, **options)


class RiskTemplate(models.Model):
    """A risk profile the operator maintains (conservative, moderate, aggressive are seeded).

    A bot copies the template's values and may tune them only within ``bounds``:
    ``{"risk_per_trade": ["0.001", "0.01"], ...}`` (inclusive, as strings). A setting missing from
    ``bounds`` cannot be changed by the client.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    strategy = models.CharField(max_length=64)
    strategy_params = models.JSONField(default=dict, blank=True)
    timeframe = models.CharField(max_length=8, default="15")
    symbols = models.JSONField(default=list)
    risk_per_trade = fraction_field()
    max_position_multiple = fraction_field()
    max_leverage = fraction_field()
    default_stop_fraction = fraction_field(null=True, blank=True)
    default_take_profit_fraction = fraction_field(null=True, blank=True)
    daily_loss_limit = fraction_field()
    max_drawdown = fraction_field()
    trading_start = models.TimeField(
        null=True, blank=True, help_text="UTC; empty = around the clock"
    )
    trading_end = models.TimeField(null=True, blank=True)
    bounds = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["risk_per_trade"]

    def __str__(self) -> str:
        return self.name


class Bot(models.Model):
    """A client's bot: a template's copy, tuned, on one symbol with one exchange key.

    Changes apply at the next tick (the tick reads the row); every change is audited. ``state``
    follows draft -> running <-> paused -> stopped, plus error (with ``state_reason`` saying what
    the client can do).
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")
        ERROR = "error", _("Error")

    class Mode(models.TextChoices):
        LIVE = "live", _("Live")
        DRY_RUN = "dry_run", _("Dry run (nothing is sent)")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="bots")
    connection = models.ForeignKey(
        ExchangeConnection, on_delete=models.PROTECT, related_name="bots", null=True, blank=True
    )
    template = models.ForeignKey(RiskTemplate, on_delete=models.PROTECT, related_name="bots")
    name = models.CharField(max_length=100)
    symbol = models.CharField(max_length=32)
    timeframe = models.CharField(max_length=8)
    strategy = models.CharField(max_length=64)
    strategy_params = models.JSONField(default=dict, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.DRY_RUN)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    state_reason = models.TextField(blank=True)
    state_reason_codes = models.JSONField(
        default=list, blank=True, help_text="state_reason as codes (bots.texts renders them)"
    )
    risk_per_trade = fraction_field()
    max_position_multiple = fraction_field()
    max_leverage = fraction_field()
    default_stop_fraction = fraction_field(null=True, blank=True)
    default_take_profit_fraction = fraction_field(null=True, blank=True)
    daily_loss_limit = fraction_field()
    max_drawdown = fraction_field()
    trading_start = models.TimeField(null=True, blank=True)
    trading_end = models.TimeField(null=True, blank=True)
    loss_alert_threshold = money_field(null=True, blank=True)
    failure_streak = models.PositiveIntegerField(
        default=0, help_text="ticks in a row that failed or had every order refused"
    )
    last_candle_start = models.DateTimeField(null=True, blank=True)
    peak_equity = money_field(default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["state", "timeframe"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.symbol})"


class BotTick(models.Model):
    """One decision of one bot for one closed candle: the fence against duplicate ticks."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="ticks")
    candle_start = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    signal = models.JSONField(default=dict, blank=True)
    reasons = models.TextField(blank=True)
    reason_codes = models.JSONField(
        default=list,
        blank=True,
        help_text="the reasons, then the error, as codes; pages render these (bots.texts), the "
        "text columns keep the English for logs",
    )
    enqueued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-candle_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot", "candle_start"], name="bottick_unique_bot_candle"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bot_id}@{self.candle_start:%Y-%m-%d %H:%M}"


class SharedSignal(models.Model):
    """A strategy's signal for one (strategy, parameters, symbol, timeframe, candle), computed once.

    A thousand bots on one template cost one indicator run: the first tick computes and stores it,
    the others read it (``key`` hashes the strategy name and its canonical parameters).
    """

    key = models.CharField(max_length=64)
    symbol = models.CharField(max_length=32)
    timeframe = models.CharField(max_length=8)
    candle_start = models.DateTimeField()
    signal = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "symbol", "timeframe", "candle_start"], name="sharedsignal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key[:8]} {self.symbol} {self.timeframe} {self.candle_start:%Y-%m-%d %H:%M}"


class OrderIntent(models.Model):
    """An order written down before it is sent, under a deterministic ``orderLinkId``.

    ``UNKNOWN`` means a send whose reply never came: it is resolved by asking the exchange for
    this ``orderLinkId``, never by sending again.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Written, not sent")
        SENT = "sent", _("Accepted by the exchange")
        UNKNOWN = "unknown", _("Outcome unknown (being checked)")
        REJECTED = "rejected", _("Rejected")
        FILLED = "filled", _("Filled")
        PARTIALLY_FILLED = "partially_filled", _("Partially filled")
        CANCELLED = "cancelled", _("Cancelled")
        SIMULATED = "simulated", _("Dry run (not sent)")
        NEVER_PLACED = "never_placed", _("Never placed (resolved by the operator)")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="order_intents")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="order_intents")
    tick = models.ForeignKey(
        BotTick, on_delete=models.SET_NULL, null=True, blank=True, related_name="intents"
    )
    leg = models.PositiveSmallIntegerField(default=0)
    order_link_id = models.CharField(max_length=36, unique=True)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4)
    order_type = models.CharField(max_length=8, default="Market")
    qty = money_field()
    price = money_field(null=True, blank=True)
    reduce_only = models.BooleanField(default=False)
    stop_loss = money_field(null=True, blank=True)
    take_profit = money_field(null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    exchange_order_id = models.CharField(max_length=64, blank=True)
    filled_qty = money_field(default=Decimal(0))
    avg_fill_price = money_field(null=True, blank=True)
    reason = models.TextField(blank=True)
    reason_codes = models.JSONField(
        default=list, blank=True, help_text="the decision's reasons as codes (bots.texts)"
    )
    error = models.TextField(blank=True, help_text="the exchange's own words, for operators")
    error_code = models.CharField(
        max_length=48, blank=True, help_text="the exchange error's class when it was refused"
    )
    error_params = models.JSONField(
        default=dict, blank=True, help_text="the error code's figures, e.g. Bybit's retCode"
    )
    checks = models.PositiveIntegerField(
        default=0, help_text="times the exchange was asked about an unknown outcome"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "created_at"]),
            models.Index(fields=["bot", "-created_at"]),
            models.Index(fields=["tenant", "-created_at"]),  # the client's latest orders
        ]

    def __str__(self) -> str:
        return f"{self.order_link_id} {self.side} {self.qty} {self.symbol} [{self.state}]"


class BotFill(models.Model):
    """A fill applied to a bot's position, once: unique per (exchange account, execution id).

    Executions can be offered more than once (stream and REST catch-up both see them, two keys of
    one account both stream them, a handler may die after applying one); this row, written in the
    same transaction as the position change, makes applying a fill idempotent. A simulated (dry
    run) fill has no account and an id unique of its own (``sim-<orderLinkId>``).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="bot_fills")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="fills")
    intent = models.ForeignKey(
        OrderIntent, on_delete=models.SET_NULL, null=True, blank=True, related_name="fills"
    )
    account = models.ForeignKey(
        ExchangeAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="bot_fills"
    )

    class Kind(models.TextChoices):
        TRADE = "trade", _("Trade")
        FUNDING = "funding", _("Funding")

    exec_id = models.CharField(max_length=64)
    kind = models.CharField(
        max_length=8,
        choices=Kind.choices,
        default=Kind.TRADE,
        help_text="a funding settlement moves P&L (``realised_pnl``), never the position",
    )
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4)
    price = money_field()
    qty = money_field()
    fee = money_field(default=Decimal(0))
    realised_pnl = money_field(default=Decimal(0))
    simulated = models.BooleanField(default=False)
    exec_time = models.DateTimeField()

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-exec_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "exec_id"],
                condition=models.Q(account__isnull=False),
                name="botfill_unique_account_exec",
            ),
            models.UniqueConstraint(
                fields=["exec_id"],
                condition=models.Q(account__isnull=True),
                name="botfill_unique_simulated_exec",
            ),
        ]
        indexes = [
            models.Index(fields=["bot", "-exec_time"]),
            models.Index(fields=["tenant", "-exec_time"]),  # the client's latest fills, today's
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.qty} {self.symbol} @ {self.price}"


class BotPosition(models.Model):
    """The bot's position as the service knows it (from fills, corrected by reconciliation)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="bot_positions")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="positions")
    symbol = models.CharField(max_length=32)
    qty = money_field(default=Decimal(0))  # signed: long > 0, short < 0
    avg_price = money_field(default=Decimal(0))
    realised_pnl = money_field(default=Decimal(0))
    fees = money_field(default=Decimal(0))
    opened_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot", "symbol"], name="botposition_unique_bot_symbol")
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.qty} @ {self.avg_price}"


class EquitySnapshot(models.Model):
    """Equity every few minutes, in three series; the basis of P&L charts and the breaker.

    - an exchange account's (``account`` set, ``bot`` empty): its wallet's total equity;
    - a bot's (``bot`` set): a live bot's own P&L, a dry-run bot's virtual equity;
    - the tenant's (both empty): the sum of its accounts' latest equity (or, for a tenant with no
      account, of its dry-run bots'), written with every account snapshot.
    ``bots.books`` is the one place that reads them as equity.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="equity_snapshots")
    account = models.ForeignKey(
        ExchangeAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="equity_snapshots",
    )
    bot = models.ForeignKey(
        Bot, on_delete=models.CASCADE, null=True, blank=True, related_name="equity_snapshots"
    )
    at = models.DateTimeField()
    equity = money_field()
    realised_pnl = money_field(default=Decimal(0))
    unrealised_pnl = money_field(default=Decimal(0))

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "bot", "-at"]),
            models.Index(fields=["account", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} equity {self.equity}"


class CapitalFlow(models.Model):
    """A deposit, withdrawal or transfer on an exchange account: capital, never profit or loss.

    Unique per account and the transaction log's own id, so every key of the account and every
    re-read of the log records it once. Trading P&L, fees and funding are not flows.
    """

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        WITHDRAWAL = "withdrawal", _("Withdrawal")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="capital_flows")
    account = models.ForeignKey(
        ExchangeAccount, on_delete=models.CASCADE, related_name="capital_flows"
    )
    exchange_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = money_field()
    coin = models.CharField(max_length=16, default="USDT")
    at = models.DateTimeField(help_text="when the exchange booked it (its clock)")
    recorded_at = models.DateTimeField(
        auto_now_add=True,
        help_text="when we recorded it (our clock): whether a snapshot already holds it",
    )

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "exchange_id"], name="capitalflow_unique_account_exchange_id"
            )
        ]
        indexes = [models.Index(fields=["account", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.coin} at {self.at:%Y-%m-%d}"

    @property
    def signed_amount(self) -> Decimal:
        """Into the account positive, out of it negative."""
        amount: Decimal = self.amount
        return amount if self.kind == self.Kind.DEPOSIT else -amount


class KillSwitch(models.Model):
    """Stops new orders at once for everything (operator), a tenant (the client's emergency stop)
    or one bot; cancels open orders and, when ``flatten`` is set, closes positions reduce-only.

    Enforcement is retried until every affected bot is done (``enforced_at``); ``progress`` holds
    the counts of the last pass (bots, cancelled, flattened, failed) for the operator to watch."""

    class Scope(models.TextChoices):
        GLOBAL = "global", _("Everything")
        TENANT = "tenant", _("One client")
        BOT = "bot", _("One bot")

    scope = models.CharField(max_length=8, choices=Scope.choices)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="kill_switches"
    )
    bot = models.ForeignKey(
        Bot, on_delete=models.CASCADE, null=True, blank=True, related_name="kill_switches"
    )
    active = models.BooleanField(default=True)
    flatten = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    engaged_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    engaged_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    by_operator = models.BooleanField(
        default=False, help_text="engaged from admin: only an operator releases it"
    )
    enforced_at = models.DateTimeField(
        null=True, blank=True, help_text="every affected bot's orders cancelled (and flattened)"
    )
    progress = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["active", "scope"])]

    def __str__(self) -> str:
        target: Any = self.bot or self.tenant or "all"
        return f"{self.get_scope_display()} kill switch on {target}"


class Alert(models.Model):
    """Something a person must know; persisted until dismissed.

    ``kind`` and ``params`` are what pages render, in the reader's language, at display time
    (``bots.texts``); ``message`` is the same in English for logs and the operators.
    """

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    bot = models.ForeignKey(
        Bot, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=48)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    message = models.TextField(
        help_text="English text for logs and admin; pages render kind+params"
    )
    params = models.JSONField(default=dict, blank=True)
    notify_operator = models.BooleanField(
        default=False, help_text="also delivered to the staff (always, for alerts with no tenant)"
    )
    operator_notified_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    webhook_at = models.DateTimeField(null=True, blank=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "dismissed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(dismissed_at__isnull=True) & ~models.Q(dedupe_key=""),
                name="alert_one_open_per_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.kind}: {self.message[:60]}"


class NotificationSettings(models.Model):
    """How a tenant wants alerts delivered (always in-app; email and signed webhook optional).

    The webhook secret is sealed like every other secret; receivers verify the
    ``X-Tradingsvc-Signature`` header (``sha256=`` HMAC of the raw body).
    """

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_enabled = models.BooleanField(default=True)
    webhook_url = models.URLField(blank=True)
    webhook_secret_sealed = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantOwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"notifications of {self.tenant_id}"

    def associated_data(self) -> str:
        return f"tenant={self.tenant_id}|notification_settings={self.pk}|field=webhook_secret"
