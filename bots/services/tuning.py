"""Creating bots from risk templates and tuning them within the template's bounds.

Every change is validated (plain errors per field, warnings when the risk is high), audited with
before and after values, and takes effect at the next tick: ticks read the bot row, nothing is
cached in a process.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Tenant, User
from accounts.services.audit import audit_record
from bots.models import Bot, RiskTemplate
from bots.risk import RiskLimits, risk_warnings
from bots.strategies import InvalidParameters, ParamKind, ParamSpec, get_strategy
from bots.texts import rendered, rendered_errors
from exchange.models import ExchangeConnection

TUNABLE_LIMITS = (
    "risk_per_trade",
    "max_position_multiple",
    "max_leverage",
    "daily_loss_limit",
    "max_drawdown",
)
LIMIT_LABELS = {
    "risk_per_trade": gettext_lazy("Risk per trade"),
    "max_position_multiple": gettext_lazy("Largest position (x equity)"),
    "max_leverage": gettext_lazy("Maximum leverage"),
    "daily_loss_limit": gettext_lazy("Daily loss limit"),
    "max_drawdown": gettext_lazy("Maximum drawdown"),
}


class BotTuningError(ValueError):
    """Field errors, each a sentence the client can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class TuningResult:
    bot: Bot
    warnings: list[str] = field(default_factory=list)
    raised_risk: bool = False


def limits_for(bot: Bot) -> RiskLimits:
    """The risk manager's view of a bot's current settings."""
    return RiskLimits(
        risk_per_trade=bot.risk_per_trade,
        max_position_multiple=bot.max_position_multiple,
        max_leverage=bot.max_leverage,
        daily_loss_limit=bot.daily_loss_limit,
        max_drawdown=bot.max_drawdown,
        allowed_symbols=frozenset(bot.template.symbols),
        trading_start=bot.trading_start,
        trading_end=bot.trading_end,
        default_stop_fraction=bot.default_stop_fraction,
        default_take_profit_fraction=bot.default_take_profit_fraction,
    )


def _validated_limits(template: RiskTemplate, values: dict[str, Any]) -> dict[str, Decimal]:
    cleaned: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for name in TUNABLE_LIMITS:
        default = Decimal(str(getattr(template, name)))
        raw = values.get(name, default)
        label = LIMIT_LABELS[name]
        try:
            value = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            errors[name] = _("%(label)s: enter a number.") % {"label": label}
            continue
        if not value.is_finite():
            errors[name] = _("%(label)s: enter a number.") % {"label": label}
            continue
        bounds = template.bounds.get(name)
        if bounds is None:
            if value != default:
                errors[name] = _("%(label)s is fixed by the %(template)s template.") % {
                    "label": label,
                    "template": template.name,
                }
                continue
        else:
            low, high = Decimal(bounds[0]), Decimal(bounds[1])
            if not low <= value <= high:
                errors[name] = _(
                    "%(label)s: the %(template)s template allows %(low)s to %(high)s."
                ) % {
                    "label": label,
                    "template": template.name,
                    "low": low,
                    "high": high,
                }
                continue
        cleaned[name] = value
    if errors:
        raise BotTuningError(errors)
    return cleaned


# Strategy parameters whose change raises risk, and in which direction: shorting turned on, a
# wider stop (a larger loss before the exit). Saving such a change asks for the password again.
RISKIER_WHEN_RAISED = frozenset({"allow_short", "atr_stop_multiple"})


def param_bounds(template: RiskTemplate, spec: ParamSpec) -> tuple[Any, Any] | list[bool] | None:
    """The template's bounds for one strategy parameter: ``(low, high)`` for a number, the allowed
    values for a yes/no, or None when the template fixes it at its own value."""
    bounds = template.bounds.get(spec.name)
    if bounds is None:
        return None
    if spec.kind is ParamKind.BOOL:
        return [spec.parse(value) for value in bounds]
    return spec.parse(bounds[0]), spec.parse(bounds[1])


def template_param(template: RiskTemplate, spec: ParamSpec) -> Any:
    """The parameter's value as the template sets it (else the strategy's default)."""
    return spec.parse(template.strategy_params.get(spec.name, spec.default))


def _validated_params(template: RiskTemplate, params: dict[str, Any]) -> dict[str, Any]:
    """Within the strategy's own ranges, then within the template's bounds (fixed when it has
    none), so no client can take a bot outside the risk profile it chose (e.g. short on a
    long-only template)."""
    strategy = get_strategy(template.strategy)
    try:
        cleaned = strategy.clean_params(params)
    except InvalidParameters as exc:
        raise BotTuningError(rendered_errors(exc.errors)) from None
    errors: dict[str, str] = {}
    for spec in strategy.params:
        value, bounds = cleaned.get(spec.name), param_bounds(template, spec)
        context = {"label": rendered(spec.label), "template": template.name}
        if bounds is None:
            if value != template_param(template, spec):
                errors[spec.name] = _("%(label)s is fixed by the %(template)s template.") % context
        elif isinstance(bounds, list):
            if value not in bounds:
                errors[spec.name] = (
                    _("%(label)s: the %(template)s template does not allow this.") % context
                )
        elif not bounds[0] <= value <= bounds[1]:
            errors[spec.name] = _(
                "%(label)s: the %(template)s template allows %(low)s to %(high)s."
            ) % {**context, "low": bounds[0], "high": bounds[1]}
    if errors:
        raise BotTuningError(errors)
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in cleaned.items()}


def _params_raise_risk(
    template: RiskTemplate, before: dict[str, Any], after: dict[str, Any]
) -> bool:
    strategy = get_strategy(template.strategy)
    for spec in strategy.params:
        if spec.name not in RISKIER_WHEN_RAISED:
            continue
        old = spec.parse(before.get(spec.name, template_param(template, spec)))
        if spec.parse(after.get(spec.name, old)) > old:
            return True
    return False


def _snapshot(bot: Bot) -> dict[str, Any]:
    return {
        **{name: str(getattr(bot, name)) for name in TUNABLE_LIMITS},
        "strategy_params": bot.strategy_params,
        "symbol": bot.symbol,
        "mode": bot.mode,
    }


@transaction.atomic
def bot_create(
    *,
    tenant: Tenant,
    template: RiskTemplate,
    name: str,
    symbol: str,
    connection: ExchangeConnection | None,
    by: User | None,
    mode: str = Bot.Mode.DRY_RUN,
    limits: dict[str, Any] | None = None,
    strategy_params: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> TuningResult:
    """A new bot (draft) copied from ``template`` and tuned within its bounds."""
    errors: dict[str, str] = {}
    if symbol not in template.symbols:
        errors["symbol"] = _("The %(template)s template trades %(symbols)s.") % {
            "template": template.name,
            "symbols": ", ".join(template.symbols),
        }
    if connection is not None and connection.tenant_id != tenant.pk:
        errors["connection"] = _("Choose one of your own exchange keys.")
    elif connection is not None:
        # One-way mode holds one position per symbol and key: two bots on it would fight over it.
        other = (
            Bot.objects.filter(connection=connection, symbol=symbol)
            .exclude(state=Bot.State.STOPPED)
            .first()
        )
        if other is not None:
            errors["symbol"] = _(
                "This exchange key already trades %(symbol)s in the bot '%(bot)s'."
            ) % {"symbol": symbol, "bot": other.name}
    if not name.strip():
        errors["name"] = _("Give the bot a name.")
    if errors:
        raise BotTuningError(errors)
    cleaned = _validated_limits(template, limits or {})
    params = _validated_params(template, {**template.strategy_params, **(strategy_params or {})})
    bot = Bot.objects.create(
        tenant=tenant,
        connection=connection,
        template=template,
        name=name.strip()[:100],
        symbol=symbol,
        timeframe=template.timeframe,
        strategy=template.strategy,
        strategy_params=params,
        mode=mode,
        default_stop_fraction=template.default_stop_fraction,
        default_take_profit_fraction=template.default_take_profit_fraction,
        trading_start=template.trading_start,
        trading_end=template.trading_end,
        **cleaned,
    )
    audit_record(
        action="bot.created",
        actor=by,
        tenant=tenant,
        target=bot,
        request=request,
        after=_snapshot(bot),
    )
    return TuningResult(bot=bot, warnings=risk_warnings(limits_for(bot)))


@transaction.atomic
def bot_tuning_update(
    *,
    bot: Bot,
    by: User | None,
    limits: dict[str, Any] | None = None,
    strategy_params: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> TuningResult:
    """Tune a bot; applies at its next tick. ``raised_risk`` tells the caller to ask for
    reauthentication before saving (the web app checks it first with ``dry_run``-style validation)."""
    bot = Bot.objects.select_for_update().select_related("template").get(pk=bot.pk)
    before = _snapshot(bot)
    check = bot_tuning_check(bot=bot, limits=limits, strategy_params=strategy_params)
    for name, value in check.limits.items():
        setattr(bot, name, value)
    bot.strategy_params = check.strategy_params
    bot.save()
    after = _snapshot(bot)
    if after != before:
        audit_record(
            action="bot.settings_changed",
            actor=by,
            tenant=bot.tenant,
            target=bot,
            request=request,
            before=before,
            after=after,
        )
    return TuningResult(bot=bot, warnings=check.warnings, raised_risk=check.raised_risk)


def bot_tuning_validate(
    *, template: RiskTemplate, limits: dict[str, Any], strategy_params: dict[str, Any]
) -> tuple[dict[str, Decimal], dict[str, Any]]:
    """The same checks for values typed anywhere else (admin): the cleaned limits and parameters,
    or ``BotTuningError`` listing every one outside the template's bounds."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Decimal] = {}
    params: dict[str, Any] = {}
    try:
        cleaned = _validated_limits(template, limits)
    except BotTuningError as exc:
        errors.update(exc.errors)
    try:
        params = _validated_params(template, {**template.strategy_params, **strategy_params})
    except BotTuningError as exc:
        errors.update(exc.errors)
    if errors:
        raise BotTuningError(errors)
    return cleaned, params


@dataclass(frozen=True)
class TuningCheck:
    """What saving would do: the cleaned values, the warnings, whether risk goes up."""

    limits: dict[str, Decimal]
    strategy_params: dict[str, Any]
    warnings: list[str]
    raised_risk: bool


def bot_tuning_check(
    *,
    bot: Bot,
    limits: dict[str, Any] | None = None,
    strategy_params: dict[str, Any] | None = None,
) -> TuningCheck:
    """Validate a change without saving it (``BotTuningError`` lists what is wrong), so the
    client sees errors and warnings before saving and raised risk can ask for reauthentication."""
    current = {name: getattr(bot, name) for name in TUNABLE_LIMITS}
    cleaned = _validated_limits(bot.template, {**current, **(limits or {})})
    params = _validated_params(bot.template, {**bot.strategy_params, **(strategy_params or {})})
    preview = replace(
        limits_for(bot),
        risk_per_trade=cleaned["risk_per_trade"],
        max_position_multiple=cleaned["max_position_multiple"],
        max_leverage=cleaned["max_leverage"],
        daily_loss_limit=cleaned["daily_loss_limit"],
        max_drawdown=cleaned["max_drawdown"],
    )
    return TuningCheck(
        limits=cleaned,
        strategy_params=params,
        warnings=risk_warnings(preview),
        raised_risk=any(cleaned[name] > current[name] for name in TUNABLE_LIMITS)
        or _params_raise_risk(bot.template, bot.strategy_params, params),
    )


@transaction.atomic
def bot_loss_thresholds_save(
    *,
    tenant: Tenant,
    thresholds: dict[int, Decimal | None],
    by: User | None,
    request: HttpRequest | None = None,
) -> int:
    """Per-bot loss alert thresholds (empty = no alert); returns how many changed."""
    changed = 0
    for bot in Bot.objects.for_tenant(tenant).filter(pk__in=thresholds).select_for_update():
        value = thresholds[bot.pk]
        if value == bot.loss_alert_threshold:
            continue
        audit_record(
            action="bot.loss_threshold_changed",
            actor=by,
            tenant=tenant,
            target=bot,
            request=request,
            before={"loss_alert_threshold": str(bot.loss_alert_threshold)},
            after={"loss_alert_threshold": str(value)},
        )
        bot.loss_alert_threshold = value
        bot.save(update_fields=["loss_alert_threshold", "updated_at"])
        changed += 1
    return changed
