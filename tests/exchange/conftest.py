"""Shared fixtures of the gateway tests: settings pointed at the running simulator, fresh limiter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from exchange import clock
from exchange.limiter import reset_limiter
from tests.exchange.helpers import flush_limiter
from tests.fixtures.simulator import point_settings_at


@pytest.fixture
def sim(simulator_session: Any, settings: Any) -> Iterator[Any]:
    """The session simulator with the gateway's settings pointed at it and clean limiter state."""
    point_settings_at(settings, simulator_session)
    settings.EXCHANGE_STREAM_HANDLERS = []  # the engine's hook is tested with the engine
    flush_limiter()
    reset_limiter()
    clock.forget(simulator_session.base_url)
    yield simulator_session
    simulator_session.clear_faults()
    reset_limiter()
    clock.forget(simulator_session.base_url)
