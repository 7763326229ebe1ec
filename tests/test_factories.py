"""The shared factories build valid rows, each tenant's rows hanging on one tenant."""

from __future__ import annotations

from typing import Any

import factory
import pytest

from tests import factories

pytestmark = pytest.mark.django_db

MODEL_FACTORIES = [
    value
    for value in vars(factories).values()
    if isinstance(value, type)
    and issubclass(value, factory.django.DjangoModelFactory)
    and value is not factory.django.DjangoModelFactory
]


@pytest.mark.parametrize("model_factory", MODEL_FACTORIES, ids=lambda f: f.__name__)
def test_every_factory_builds_a_row_that_passes_model_validation(model_factory: Any) -> None:
    """Each factory's row, as it comes, passes the model's own validation and is saved."""
    row = model_factory.create()

    row.full_clean(exclude=["password"])

    assert type(row)._default_manager.filter(pk=row.pk).exists()


def test_a_rows_tenant_follows_the_row_it_hangs_on() -> None:
    """An intent, a fill and a position take their bot's tenant; a flow its account's."""
    intent = factories.OrderIntentFactory.create()
    fill = factories.BotFillFactory.create(bot=intent.bot)
    position = factories.BotPositionFactory.create(bot=intent.bot)
    flow = factories.CapitalFlowFactory.create()

    assert intent.tenant == fill.tenant == position.tenant == intent.bot.tenant
    assert flow.tenant == flow.account.tenant


def test_the_cast_is_two_tenants_and_an_operator(
    owner: Any, viewer: Any, other_owner: Any, operator: Any
) -> None:
    """Owner and viewer share tenant A; the other owner has tenant B; the operator is staff in
    the operator group and no superuser."""
    assert (owner.role, viewer.role, other_owner.role) == ("owner", "viewer", "owner")
    assert owner.tenant == viewer.tenant != other_owner.tenant
    assert operator.is_staff and not operator.is_superuser
    assert list(operator.groups.values_list("name", flat=True)) == ["operator"]
