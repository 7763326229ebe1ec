"""factory_boy factories shared by every test module, one for each main model, and the few
builders that go through the services where a row alone would not be real (a member with 2FA, a
validated key, a running bot).

Factories give a valid row with the least said; a test names only the fields its behaviour is
about. Rows of one tenant take the tenant from the row they hang on (``bot.tenant``,
``account.tenant``), so a factory never mixes two tenants by accident.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

import factory
from django.utils import timezone

from accounts.models import User

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.declarations.Sequence(lambda n: f"user{n}@example.test")
    password = factory.declarations.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()
            # Invited users' addresses are verified by the invitation link itself.
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(
                user=instance, email=instance.email, defaults={"primary": True, "verified": True}
            )


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Tenant"

    name = factory.declarations.Sequence(lambda n: f"Tenant {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Membership"

    tenant = factory.declarations.SubFactory(TenantFactory)
    user = factory.declarations.SubFactory(UserFactory)
    role = "owner"


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation (its token is not known: tests that follow the link use the service)."""

    class Meta:
        model = "accounts.Invitation"

    tenant = factory.declarations.SubFactory(TenantFactory)
    email = factory.declarations.Sequence(lambda n: f"invited{n}@example.test")
    role = "viewer"
    token_hash = factory.declarations.Sequence(
        lambda n: hashlib.sha256(f"invitation {n}".encode()).hexdigest()
    )
    expires_at = factory.declarations.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class ExchangeAccountFactory(factory.django.DjangoModelFactory):
    """A Bybit account (UID) of a tenant on one environment."""

    class Meta:
        model = "exchange.ExchangeAccount"

    tenant = factory.declarations.SubFactory(TenantFactory)
    environment = "simulator"
    exchange_uid = factory.declarations.Sequence(lambda n: str(900000 + n))


class ExchangeConnectionFactory(factory.django.DjangoModelFactory):
    """An exchange key row with no sealed secrets (nothing reaches an exchange through it); for a
    key the simulator validated, use :func:`connect_live`."""

    class Meta:
        model = "exchange.ExchangeConnection"

    tenant = factory.declarations.SubFactory(TenantFactory)
    environment = "simulator"
    api_key_last4 = "AAAA"


RISK_LIMITS = (
    "risk_per_trade",
    "max_position_multiple",
    "max_leverage",
    "default_stop_fraction",
    "default_take_profit_fraction",
    "daily_loss_limit",
    "max_drawdown",
)


class RiskTemplateFactory(factory.django.DjangoModelFactory):
    """A template of its own (the seeded ones are read with ``RiskTemplate.objects.get(slug=...)``)."""

    class Meta:
        model = "bots.RiskTemplate"

    slug = factory.declarations.Sequence(lambda n: f"template-{n}")
    name = factory.declarations.Sequence(lambda n: f"Template {n}")
    strategy = "trend_ema"
    strategy_params = factory.declarations.LazyFunction(lambda: {"fast": 12, "slow": 26})
    timeframe = "15"
    symbols = factory.declarations.LazyFunction(lambda: ["BTCUSDT"])
    risk_per_trade = Decimal("0.01")
    max_position_multiple = Decimal("1")
    max_leverage = Decimal("1")
    daily_loss_limit = Decimal("0.05")
    max_drawdown = Decimal("0.2")


class BotFactory(factory.django.DjangoModelFactory):
    """A draft dry-run bot on the seeded moderate template, its strategy and limits copied from
    it, written as a row (for a bot made the way a client makes one, and started, use
    :func:`running_bot`)."""

    class Meta:
        model = "bots.Bot"

    tenant = factory.declarations.SubFactory(TenantFactory)
    template = factory.declarations.LazyFunction(
        lambda: _model("bots.RiskTemplate").objects.get(slug="moderate")
    )
    name = factory.declarations.Sequence(lambda n: f"bot {n}")
    symbol = "BTCUSDT"
    timeframe = factory.declarations.LazyAttribute(lambda bot: bot.template.timeframe)
    strategy = factory.declarations.LazyAttribute(lambda bot: bot.template.strategy)
    strategy_params = factory.declarations.LazyAttribute(
        lambda bot: dict(bot.template.strategy_params)
    )

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        for name in RISK_LIMITS:
            kwargs.setdefault(name, getattr(kwargs["template"], name))
        return super()._create(model_class, *args, **kwargs)


class BotTickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "bots.BotTick"

    bot = factory.declarations.SubFactory(BotFactory)
    candle_start = factory.declarations.LazyFunction(
        lambda: timezone.now().replace(second=0, microsecond=0)
    )


class OrderIntentFactory(factory.django.DjangoModelFactory):
    """An order written down and not sent (``state`` pending)."""

    class Meta:
        model = "bots.OrderIntent"

    bot = factory.declarations.SubFactory(BotFactory)
    tenant = factory.declarations.SelfAttribute("bot.tenant")
    order_link_id = factory.declarations.Sequence(lambda n: f"ts-test-{n}")
    symbol = factory.declarations.SelfAttribute("bot.symbol")
    side = "Buy"
    qty = Decimal("0.001")


class BotFillFactory(factory.django.DjangoModelFactory):
    """A simulated (dry-run) fill; give ``account`` (and ``simulated=False``) for an exchange's."""

    class Meta:
        model = "bots.BotFill"

    bot = factory.declarations.SubFactory(BotFactory)
    tenant = factory.declarations.SelfAttribute("bot.tenant")
    exec_id = factory.declarations.Sequence(lambda n: f"sim-ts-test-{n}")
    symbol = factory.declarations.SelfAttribute("bot.symbol")
    side = "Buy"
    price = Decimal("30000")
    qty = Decimal("0.001")
    simulated = True
    exec_time = factory.declarations.LazyFunction(timezone.now)


class BotPositionFactory(factory.django.DjangoModelFactory):
    """A flat position (``qty`` 0); give ``qty`` and ``avg_price`` for an open one."""

    class Meta:
        model = "bots.BotPosition"

    bot = factory.declarations.SubFactory(BotFactory)
    tenant = factory.declarations.SelfAttribute("bot.tenant")
    symbol = factory.declarations.SelfAttribute("bot.symbol")


class CapitalFlowFactory(factory.django.DjangoModelFactory):
    """A deposit booked by the exchange now."""

    class Meta:
        model = "bots.CapitalFlow"

    account = factory.declarations.SubFactory(ExchangeAccountFactory)
    tenant = factory.declarations.SelfAttribute("account.tenant")
    exchange_id = factory.declarations.Sequence(lambda n: f"flow-{n}")
    kind = "deposit"
    amount = Decimal("1000")
    at = factory.declarations.LazyFunction(timezone.now)


class EquitySnapshotFactory(factory.django.DjangoModelFactory):
    """The tenant's series (no account, no bot); give ``account`` or ``bot`` for theirs."""

    class Meta:
        model = "bots.EquitySnapshot"

    tenant = factory.declarations.SubFactory(TenantFactory)
    at = factory.declarations.LazyFunction(timezone.now)
    equity = Decimal("10000")


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "bots.Alert"

    tenant = factory.declarations.SubFactory(TenantFactory)
    kind = "test"
    message = "A test alert"


class KillSwitchFactory(factory.django.DjangoModelFactory):
    """An engaged tenant switch, written as a row (enforcement goes through the protection service)."""

    class Meta:
        model = "bots.KillSwitch"

    scope = "tenant"
    tenant = factory.declarations.SubFactory(TenantFactory)


class NotificationSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "bots.NotificationSettings"
        django_get_or_create = ("tenant",)

    tenant = factory.declarations.SubFactory(TenantFactory)


class CandleFactory(factory.django.DjangoModelFactory):
    """A flat 15-minute BTCUSDT candle of the simulator environment."""

    class Meta:
        model = "exchange.Candle"

    environment = "simulator"
    symbol = "BTCUSDT"
    interval = "15"
    start = factory.declarations.LazyFunction(
        lambda: timezone.now().replace(minute=0, second=0, microsecond=0)
    )
    open = Decimal("30000")
    high = Decimal("30000")
    low = Decimal("30000")
    close = Decimal("30000")
    volume = Decimal("1")


def _model(label: str) -> Any:
    from django.apps import apps

    return apps.get_model(label)


def client_with_2fa(role: str = "owner", tenant=None, email: str | None = None):
    """A tenant member who has enrolled TOTP (as every client must before seeing data)."""
    from accounts.mfa import client_totp_activate

    kwargs = {"email": email} if email else {}
    user = cast("User", UserFactory(**kwargs))
    membership = cast(
        Any, MembershipFactory(user=user, role=role, **({"tenant": tenant} if tenant else {}))
    )
    membership.totp_secret = client_totp_activate(user)
    return membership


def login_with_2fa(client, membership) -> None:
    """Sign in through allauth's real flow (password, then TOTP): counts as a fresh authentication."""
    response = client.post(
        "/accounts/login/", {"login": membership.user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    response = client.post(
        "/accounts/2fa/authenticate/", {"code": totp_now(membership.totp_secret)}
    )
    assert response.status_code == 302, response.content[:500]


def operator_with_otp(email: str = "operator@example.test"):
    """A staff user with an admin TOTP device; returns (user, base32 secret)."""
    from accounts.services.operator_otp import operator_totp_enrol

    user = cast("User", StaffUserFactory(email=email))
    return user, operator_totp_enrol(user=user).base32_secret


def totp_now(base32_secret: str) -> str:
    from accounts.mfa import totp_code_for_secret

    return totp_code_for_secret(base32_secret)


def reauthenticate(client) -> None:
    """Confirm the password again (allauth asks before sensitive changes, for 5 minutes)."""
    response = client.post("/accounts/reauthenticate/", {"password": TEST_PASSWORD})
    assert response.status_code == 302, response.content[:500]


def connection_with_account(**fields: Any):
    """An exchange key row tied to its exchange account, as validation leaves it.

    For tests that build a key by hand (no round trip to the simulator's key check): give
    ``exchange_uid`` and the row is attached to that UID's account like a validated key.
    """
    from exchange.models import ExchangeConnection
    from exchange.services.accounts import exchange_account_attach

    connection = ExchangeConnection(**fields)
    if connection.exchange_uid:
        exchange_account_attach(connection=connection)
    connection.save()
    return connection


def connect_live(sim: Any, membership: Any, usdt: str = "10000") -> tuple[int, Any]:
    """A new simulator account of ``usdt`` and its key, connected through the key service (so
    validated by the simulator, as a client's is); returns (uid, connection)."""
    from exchange.services.keys import exchange_key_connect

    uid, key, secret = sim.create_account(usdt=usdt)
    connection = exchange_key_connect(
        tenant=membership.tenant,
        environment="simulator",
        api_key=key,
        api_secret=secret,
        by=membership.user,
    )
    return uid, connection


def running_bot(
    membership: Any,
    *,
    mode: str,
    connection: Any = None,
    name: str = "bot",
    template: str = "moderate",
) -> Any:
    """A bot made and started through the services, as its owner does; the moderate template is
    EMA 12/26 on 15-minute candles, shorts allowed."""
    from bots.models import Bot, RiskTemplate
    from bots.services.lifecycle import bot_transition
    from bots.services.tuning import bot_create

    bot = bot_create(
        tenant=membership.tenant,
        template=RiskTemplate.objects.get(slug=template),
        name=name,
        symbol="BTCUSDT",
        connection=connection,
        by=membership.user,
        mode=mode,
    ).bot
    return bot_transition(bot=bot, to=Bot.State.RUNNING, by=membership.user)


def staff_with_role(role: str, email: str | None = None):
    """A staff member who is not a superuser: their powers are one role's group (operator,
    support); with an admin TOTP device. Returns (user, base32 secret)."""
    from django.contrib.auth.models import Group

    from accounts.services.operator_otp import operator_totp_enrol
    from accounts.services.staff_roles import staff_roles_sync

    if not Group.objects.filter(name=role).exists():
        staff_roles_sync()  # a transactional test's flush emptied the groups table
    user = cast("User", UserFactory(email=email or f"{role}@example.test", is_staff=True))
    user.groups.add(Group.objects.get(name=role))
    return user, operator_totp_enrol(user=user).base32_secret


def admin_login(client, user, base32_secret: str) -> None:
    """Sign a staff member into the admin through its real form (email, password, code)."""
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": user.email,
            "password": TEST_PASSWORD,
            "otp_token": totp_now(base32_secret),
            "next": "/admin/",
        },
    )
    assert response.status_code == 302, response.content[:500]


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A tenant on a seeded plan (Standard by default), monthly, from 1 October 2026."""

    class Meta:
        model = "billing.Subscription"

    tenant = factory.declarations.SubFactory(TenantFactory)
    plan = factory.declarations.LazyFunction(lambda: _seeded_plan("standard"))
    starts_on = date(2026, 10, 1)


def _seeded_plan(slug: str):
    from billing.models import Plan

    return Plan.objects.get(slug=slug)
