"""Client forms for bots: creation from a template, tuning built from schemas, filters, alerts.

Forms only shape input; the rules (bounds, one bot per symbol and key, risk warnings) live in
``bots.services.tuning`` and come back as field errors, so every form keeps what was typed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.formats import localize
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from bots.models import Bot, RiskTemplate
from bots.services.tuning import LIMIT_LABELS, TUNABLE_LIMITS, param_bounds
from bots.strategies import ParamKind, ParamSpec, get_strategy
from bots.texts import rendered
from exchange.models import ExchangeConnection

PARAM_PREFIX = "param_"


class TemplateChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class BotCreateForm(forms.Form):
    template = TemplateChoiceField(
        queryset=RiskTemplate.objects.filter(is_active=True),
        widget=forms.RadioSelect,
        label=_("Risk template"),
        empty_label=None,
    )
    name = forms.CharField(max_length=100, label=_("Name"))
    symbol = forms.ChoiceField(label=_("Market"))
    mode = forms.ChoiceField(
        choices=[
            (Bot.Mode.DRY_RUN, _("Dry run: decisions only, nothing is sent")),
            (Bot.Mode.LIVE, _("Live: real orders with your exchange key")),
        ],
        initial=Bot.Mode.DRY_RUN,
        widget=forms.RadioSelect,
        label=_("Mode"),
    )
    connection = forms.ModelChoiceField(
        queryset=ExchangeConnection.objects.none(),
        required=False,
        label=_("Exchange key"),
        empty_label=_("None (dry run only)"),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        symbols = sorted(
            {s for t in RiskTemplate.objects.filter(is_active=True) for s in t.symbols}
        )
        symbol_field = self.fields["symbol"]
        assert isinstance(symbol_field, forms.ChoiceField)  # noqa: S101 - declared above
        symbol_field.choices = [(s, s) for s in symbols]
        self.fields["connection"].queryset = ExchangeConnection.objects.filter(  # type: ignore[attr-defined]
            tenant=tenant, status=ExchangeConnection.Status.ACTIVE
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == Bot.Mode.LIVE and not data.get("connection"):
            self.add_error("connection", _("A live bot needs one of your exchange keys."))
        return data


# Fractions of equity are typed and shown as percentages (1 for 1 %); multiples as they are.
PERCENT_LIMITS = frozenset({"risk_per_trade", "daily_loss_limit", "max_drawdown"})


def _limit_field(name: str, value: Decimal, bounds: list[str] | None) -> forms.DecimalField:
    """One risk limit: within the template's bounds, or fixed by it (no bounds)."""
    scale = Decimal(100) if name in PERCENT_LIMITS else Decimal(1)
    low, high = (Decimal(bounds[0]) * scale, Decimal(bounds[1]) * scale) if bounds else (None, None)
    unit = " (%)" if name in PERCENT_LIMITS else ""
    help_text = (
        _("Allowed: %(low)s to %(high)s") % {"low": _plain(low), "high": _plain(high)}
        if low is not None and high is not None
        else _("Fixed by the template.")
    )
    field = forms.DecimalField(
        label=f"{LIMIT_LABELS[name]}{unit}",
        initial=_plain_decimal(value * scale),
        max_digits=12,
        decimal_places=4,
        required=True,
        disabled=bounds is None,
        min_value=low,
        max_value=high,
        help_text=help_text,
    )
    field.widget.attrs["step"] = "any"
    return field


def _param_field(spec: ParamSpec, initial: Any, bounds: Any) -> forms.Field:
    """One strategy parameter, within the template's bounds (the strategy's own range is wider):
    a yes/no with a single allowed value, or a number without bounds, is fixed."""
    param: forms.Field
    if spec.kind is ParamKind.BOOL:
        allowed = bounds or []
        param = forms.BooleanField(
            label=rendered(spec.label),
            initial=initial,
            required=False,
            disabled=len(set(allowed)) < 2,
        )
    else:
        low, high = bounds if bounds else (spec.minimum, spec.maximum)
        if spec.kind is ParamKind.INT:
            param = forms.IntegerField(
                label=rendered(spec.label),
                initial=initial,
                disabled=bounds is None,
                min_value=int(low) if low is not None else None,
                max_value=int(high) if high is not None else None,
            )
        else:
            param = forms.DecimalField(
                label=rendered(spec.label),
                initial=initial,
                min_value=low,
                max_value=high,
                disabled=bounds is None,
            )
            param.widget.attrs["step"] = "any"
        if bounds:
            allowed_text = _("Allowed: %(low)s to %(high)s") % {
                "low": _plain(Decimal(str(low))),
                "high": _plain(Decimal(str(high))),
            }
            param.help_text = f"{rendered(spec.help)} {allowed_text}".strip()
            return param
    param.help_text = rendered(spec.help) if not param.disabled else _("Fixed by the template.")
    return param


def _plain_decimal(value: Decimal) -> Decimal:
    """1.000000 -> 1, 0.500000 -> 0.5: what a person would type."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _plain(value: Decimal) -> str:
    return str(localize(_plain_decimal(value)))


class BotTuningForm(forms.Form):
    """Risk limits within the template's bounds and the strategy's parameters, from their schema."""

    def __init__(self, *args: Any, bot: Bot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bot = bot
        template = bot.template
        for name in TUNABLE_LIMITS:
            self.fields[name] = _limit_field(name, getattr(bot, name), template.bounds.get(name))
        for spec in get_strategy(bot.strategy).params:
            self.fields[PARAM_PREFIX + spec.name] = _param_field(
                spec, bot.strategy_params.get(spec.name, spec.default), param_bounds(template, spec)
            )

    def clean(self) -> dict[str, Any]:
        """A fixed field is shown, not editable; a posted value that differs is refused, not
        silently replaced by the template's."""
        data = super().clean() or {}
        for name, field in self.fields.items():
            if not field.disabled or name not in self.data:
                continue
            try:
                posted = field.to_python(
                    field.widget.value_from_datadict(self.data, self.files, name)
                )
            except forms.ValidationError:
                posted = None
            if posted != field.to_python(self.get_initial_for_field(field, name)):
                self.add_error(
                    name,
                    _("This is fixed by the %(template)s template.")
                    % {"template": self.bot.template.name},
                )
        return data

    def limits(self) -> dict[str, Any]:
        """The limits as the engine holds them: percentages back to fractions."""
        return {
            n: self.cleaned_data[n] / 100 if n in PERCENT_LIMITS else self.cleaned_data[n]
            for n in TUNABLE_LIMITS
            if n in self.cleaned_data
        }

    def strategy_params(self) -> dict[str, Any]:
        return {
            k.removeprefix(PARAM_PREFIX): v
            for k, v in self.cleaned_data.items()
            if k.startswith(PARAM_PREFIX)
        }

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            field = name if name in self.fields else PARAM_PREFIX + name
            self.add_error(field if field in self.fields else None, message)


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("orders", _("Orders")), ("fills", _("Fills"))], required=False, initial="orders"
    )
    bot = forms.ModelChoiceField(
        queryset=Bot.objects.none(), required=False, label=_("Bot"), empty_label=_("All bots")
    )
    symbol = forms.CharField(max_length=32, required=False, label=_("Market"))
    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bot"].queryset = Bot.objects.for_tenant(tenant)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


WEBHOOK_REFUSALS = {
    "scheme": _("Use an https:// address: alerts are private."),
    "address": _("This address is on a private or reserved network: use a public one."),
    "unresolved": _("This host name does not resolve."),
    "invalid": _("Give a host name, without a user name or password."),
}


class NotificationSettingsForm(forms.Form):
    email_enabled = forms.BooleanField(required=False, label=_("Email me alerts"))
    webhook_url = forms.URLField(
        required=False,
        label=_("Webhook URL"),
        assume_scheme="https",
        help_text=_("We POST each alert as JSON, signed in the X-Tradingsvc-Signature header."),
    )
    webhook_secret = forms.CharField(
        required=False,
        label=_("Webhook signing secret"),
        min_length=16,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current secret. It is never shown again."),
    )

    def __init__(self, *args: Any, bots: list[Bot], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bots = bots
        for bot in bots:
            self.fields[f"threshold_{bot.pk}"] = forms.DecimalField(
                required=False,
                min_value=Decimal(0),
                max_digits=20,
                decimal_places=2,
                label=_("Alert when %(bot)s loses more than (USDT)") % {"bot": bot.name},
                initial=bot.loss_alert_threshold,
            )

    def clean_webhook_url(self) -> str:
        """https only and a public address (resolved now; checked again on every delivery)."""
        from tradingsvc.lib.webhooks import WebhookRefused, webhook_target

        url = str(self.cleaned_data.get("webhook_url") or "")
        if url:
            try:
                webhook_target(url)
            except WebhookRefused as exc:
                raise forms.ValidationError(WEBHOOK_REFUSALS.get(exc.code, str(exc))) from exc
        return url

    def thresholds(self) -> dict[int, Decimal | None]:
        return {bot.pk: self.cleaned_data.get(f"threshold_{bot.pk}") for bot in self.bots}
