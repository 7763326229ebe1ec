"""Demo data: three client tenants, one per risk template, with live bots on the simulator.

Each gets its own funded simulator account, a key validated through the real flow, a running bot,
and an owner login with TOTP (its secret is printed; ``manage.py demo_totp`` gives the code).
Re-running keeps what exists and only refreshes the passwords.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import requests
from django.conf import settings

from accounts.mfa import client_totp_activate, client_totp_secret
from accounts.models import Membership, Tenant, User
from bots.models import Bot, RiskTemplate
from bots.services.lifecycle import bot_transition
from bots.services.tuning import bot_create
from exchange.models import ExchangeConnection
from exchange.services.keys import exchange_key_connect

DEMO_CLIENTS = (
    ("conservative", "Cautious Capital", "ETHUSDT"),
    ("moderate", "Balanced Partners", "BTCUSDT"),
    ("aggressive", "Bold Ventures", "BTCUSDT"),
)


@dataclass(frozen=True)
class DemoClient:
    email: str
    password: str
    totp_secret: str
    tenant: str
    template: str


def _simulator_key(base_url: str) -> tuple[str, str]:
    response = requests.post(f"{base_url}/sim/accounts", json={"usdt": "100000"}, timeout=10)
    response.raise_for_status()
    data = response.json()
    return str(data["api_key"]), str(data["api_secret"])


def demo_clients_seed() -> list[DemoClient]:
    simulator_url = settings.EXCHANGE_REST_URLS["simulator"]
    seeded = []
    for slug, name, symbol in DEMO_CLIENTS:
        template = RiskTemplate.objects.get(slug=slug)
        tenant = Tenant.objects.filter(name=name).first() or Tenant.objects.create(name=name)
        email = f"{slug}@demo.local"
        user = User.objects.filter(email=email).first() or User.objects.create_user(email=email)
        password = secrets.token_urlsafe(10)
        user.set_password(password)
        user.save()
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"primary": True, "verified": True}
        )
        Membership.objects.get_or_create(
            tenant=tenant, user=user, defaults={"role": Membership.Role.OWNER}
        )
        totp_secret = client_totp_secret(user) or client_totp_activate(user)
        connection = ExchangeConnection.objects.filter(
            tenant=tenant, environment="simulator", status=ExchangeConnection.Status.ACTIVE
        ).first()
        if connection is None:
            key, secret = _simulator_key(simulator_url)
            connection = exchange_key_connect(
                tenant=tenant,
                environment="simulator",
                api_key=key,
                api_secret=secret,
                label="demo",
                by=user,
            )
        bot = Bot.objects.filter(tenant=tenant).first()
        if bot is None:
            bot = bot_create(
                tenant=tenant,
                template=template,
                name=f"{template.name} {symbol}",
                symbol=symbol,
                connection=connection,
                by=user,
                mode=Bot.Mode.LIVE,
            ).bot
        if bot.state in (Bot.State.DRAFT, Bot.State.PAUSED):
            bot_transition(bot=bot, to=Bot.State.RUNNING, by=user, reason="demo")
        seeded.append(DemoClient(email, password, totp_secret, name, template.name))
    return seeded
