"""Bots tests: the seeded risk templates are there even after a transactional test flushed them."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture(autouse=True)
def risk_templates(request):
    """Re-run the migration's seed (idempotent) for tests with database access."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    from django.apps import apps

    importlib.import_module("bots.migrations.0002_seed_risk_templates").seed(apps, None)
