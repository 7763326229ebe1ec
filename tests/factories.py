"""factory_boy factories shared by every test module."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import factory

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
        {"username": user.email, "password": TEST_PASSWORD, "otp_token": totp_now(base32_secret),
         "next": "/admin/"},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:500]


class ExchangeAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "exchange.ExchangeAccount"

    tenant = factory.declarations.SubFactory(TenantFactory)
    environment = "testnet"
    exchange_uid = factory.declarations.Sequence(lambda n: str(700000 + n))


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
