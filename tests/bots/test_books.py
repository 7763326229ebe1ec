"""The books: fills, capital flows and equity are counted once per exchange account, within it.

Every test runs against the real simulator (stepped clock); where a stream is involved, the real
stream runner carries it. Nothing of ours is mocked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from bots.books import accounts_equity_sum, breaker_state, dry_run_books, performance
from bots.models import Alert, Bot, BotFill, BotPosition, CapitalFlow, EquitySnapshot, OrderIntent
from bots.risk import peak_after_flow
from bots.selectors import dashboard_summary
from bots.services.books import books_check
from bots.services.orders import intent_send, intent_write, order_link_id
from bots.services.reconcile import reconcile_connection
from bots.services.snapshots import snapshot_bot, snapshot_connection
from exchange.gateway import ExchangeGateway
from exchange.models import Candle, ExchangeAccount, Execution
from exchange.services.executions import execution_store, executions_hand_over
from exchange.services.keys import exchange_key_connect, exchange_key_replace
from exchange.streams.runner import StreamRunner
from exchange.types import OrderRequest
from tests.factories import client_with_2fa, connect_live, running_bot
from tests.fixtures.engine import round_trip_by_hand, run_due_ticks

pytestmark = pytest.mark.django_db(transaction=True)
CENT = Decimal("0.01")


def _intent(bot: Bot, link: str, side: str, qty: str, *, reduce_only: bool = False) -> OrderIntent:
    return intent_write(
        link,
        tenant_id=bot.tenant_id,
        bot=bot,
        symbol=bot.symbol,
        side=side,
        qty=Decimal(qty),
        reduce_only=reduce_only,
    )


def _pump(runner: StreamRunner, until: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the stream did not deliver in time"
        runner.step(timeout=0.05)


def _signed(gateway: ExchangeGateway, symbol: str) -> Decimal:
    held = [p for p in gateway.positions(symbol) if p.size]
    return sum((p.size if p.side == "Buy" else -p.size for p in held), Decimal(0))


def test_link_ids_are_deterministic_keyed_and_within_bybits_limit():
    """A tick's orderLinkId is the same on every run, 34 characters, and derived from nothing a
    client sees: neither the bot id nor the candle time is readable in it, and another service
    secret gives other ids."""
    from datetime import UTC, datetime

    candle = datetime(2025, 6, 1, 12, 15, tzinfo=UTC)
    first = order_link_id(4242, candle, 0)

    assert first == order_link_id(4242, candle, 0)
    assert first.startswith("ts") and len(first) == 34 and first[2:].isalnum()
    assert f"{4242:x}" not in first and f"{int(candle.timestamp()) // 60:x}" not in first
    assert first != order_link_id(4243, candle, 0) != order_link_id(4242, candle, 1)
    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 40):
        assert order_link_id(4242, candle, 0) != first


def test_a_fill_under_another_tenants_link_id_moves_nothing_and_is_reported(sim):
    """Tenant A places an order on its own account under tenant B's intent link id: B's bot,
    position and P&L are untouched, and a foreign-fill report is raised on A's account."""
    owner_b = client_with_2fa()
    _uid_b, key_b = connect_live(sim, owner_b)
    bot_b = running_bot(owner_b, mode=Bot.Mode.LIVE, connection=key_b)
    gateway_b = ExchangeGateway.for_connection(key_b)
    intent_b = _intent(bot_b, order_link_id(bot_b.pk, bot_b.created_at, 0), "Buy", "0.01")
    intent_send(intent=intent_b, gateway=gateway_b)
    sim.advance(minutes=1)
    reconcile_connection(connection=key_b)
    position_before = BotPosition.objects.get(bot=bot_b)
    fills_before = BotFill.objects.filter(bot=bot_b).count()
    assert position_before.qty == Decimal("0.01") and fills_before >= 1

    owner_a = client_with_2fa()
    _uid_a, key_a = connect_live(sim, owner_a)
    ExchangeGateway.for_connection(key_a).place_order(
        OrderRequest(
            symbol="BTCUSDT",
            side="Sell",
            order_type="Market",
            qty=Decimal("0.5"),
            order_link_id=intent_b.order_link_id,
        )
    )
    sim.advance(minutes=1)
    reconcile_connection(connection=key_a)
    reconcile_connection(connection=key_b)

    position_after = BotPosition.objects.get(bot=bot_b)
    assert (position_after.qty, position_after.realised_pnl) == (
        position_before.qty,
        position_before.realised_pnl,
    )
    assert BotFill.objects.filter(bot=bot_b).count() == fills_before
    assert not BotFill.objects.filter(account=key_a.account).exists()
    report = Alert.objects.get(kind="fill.foreign")
    assert report.tenant_id == owner_a.tenant.pk and intent_b.order_link_id in report.message
    assert not Alert.objects.filter(kind="fill.foreign", tenant=owner_b.tenant).exists()


def test_rotating_a_key_under_a_live_stream_counts_every_fill_and_deposit_once(sim, settings):
    """A live bot trades through the real stream runner while its key is rotated: a second key
    of the same account is added (both active at once, each caught up and reconciled), the bot is
    switched to it, the old one deleted. Every fill and deposit is counted once, and the bot's
    position and realised P&L equal the exchange's to the cent."""
    ws = sim.base_url.replace("http://", "ws://")
    settings.EXCHANGE_WS_URLS = {
        **settings.EXCHANGE_WS_URLS,
        "simulator": {"public": ws, "private": ws},
    }
    owner = client_with_2fa()
    uid, key_1 = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=key_1)
    snapshot_connection(connection=key_1)
    start_equity = accounts_equity_sum(owner.tenant.pk)
    runner = StreamRunner(0, 1)
    runner.start()
    try:
        _pump(runner, lambda: runner.catchups[key_1.pk] >= 1)
        intent_send(
            intent=_intent(bot, "ts" + "1" * 32, "Buy", "0.02"),
            gateway=ExchangeGateway.for_connection(key_1),
        )
        _pump(runner, lambda: BotFill.objects.filter(bot=bot).exists())

        second = sim.admin("POST", f"/sim/accounts/{uid}/keys", {})
        key_2 = exchange_key_connect(
            tenant=owner.tenant,
            environment="simulator",
            api_key=second["api_key"],
            api_secret=second["api_secret"],
            by=owner.user,
        )
        assert key_2.account_id == key_1.account_id
        sim.admin("POST", f"/sim/accounts/{uid}/deposit", {"amount": "500"})
        runner.refresh_assignment()
        # Both keys active: each one's reconciliation (catch-up, flows) sees the same account.
        reconcile_connection(connection=key_1)
        reconcile_connection(connection=key_2)
        intent_send(
            intent=_intent(bot, "ts" + "2" * 32, "Buy", "0.01"),
            gateway=ExchangeGateway.for_connection(key_2),
        )
        _pump(runner, lambda: BotFill.objects.filter(bot=bot).count() >= 2)

        exchange_key_replace(old=key_1, new=key_2, by=owner.user)
        bot.refresh_from_db()
        assert bot.connection_id == key_2.pk
        runner.refresh_assignment()
        intent_send(
            intent=_intent(bot, "ts" + "3" * 32, "Sell", "0.03", reduce_only=True),
            gateway=ExchangeGateway.for_connection(key_2),
        )
        _pump(runner, lambda: not BotPosition.objects.filter(bot=bot).exclude(qty=0).exists())
        # The same fills offered again through both keys (a redelivery, a second stream).
        for key in (key_1, key_2):
            again = ExchangeGateway.for_connection(key_2).executions_since(
                key.created_at - timedelta(days=1)
            )
            execution_store(connection_id=key.pk, executions=again, source="stream")
        executions_hand_over()
        reconcile_connection(connection=key_2)
        snapshot_connection(connection=key_2)
    finally:
        runner.stop()

    gateway = ExchangeGateway.for_connection(key_2)
    on_exchange = gateway.executions_since(key_1.created_at - timedelta(days=1))
    account = ExchangeAccount.objects.get(pk=key_2.account_id)
    assert Execution.objects.filter(account=account).count() == len(on_exchange) == 3
    assert BotFill.objects.filter(bot=bot).count() == len(on_exchange)
    assert CapitalFlow.objects.filter(account=account).count() == 2  # opening deposit and the 500
    position = BotPosition.objects.get(bot=bot)
    assert position.qty == _signed(gateway, "BTCUSDT") == 0
    # Flat: what the exchange's wallet gained net of the deposit is what the bot realised.
    end_equity = gateway.wallet_balance().total_equity
    assert start_equity is not None
    made = performance(equity_start=start_equity, equity_end=end_equity, net_flows=Decimal(500))
    assert made.quantize(CENT) == position.realised_pnl.quantize(CENT)
    assert position.fees == sum((e.exec_fee for e in on_exchange), Decimal(0))
    assert not books_check(connection=key_2).divergent


def test_a_tenant_with_two_accounts_sees_their_sum_and_each_breaker_reads_its_own(sim):
    """Two simulator accounts of one tenant: the dashboard's equity is their sum; a loss on one
    account trips only the breaker of the bot trading on it."""
    owner = client_with_2fa()
    _uid_1, key_1 = connect_live(sim, owner)
    _uid_2, key_2 = connect_live(sim, owner)
    sim.admin("POST", f"/sim/accounts/{_uid_2}/deposit", {"amount": "5000"})
    bot_1 = running_bot(owner, mode=Bot.Mode.LIVE, connection=key_1, name="one")
    bot_2 = running_bot(owner, mode=Bot.Mode.LIVE, connection=key_2, name="two")
    Bot.objects.filter(pk__in=[bot_1.pk, bot_2.pk]).update(daily_loss_limit=Decimal("0.0001"))
    snapshot_connection(connection=key_1)
    snapshot_connection(connection=key_2)

    # A round trip on account 1 only: it pays taker fees on both legs, a real loss of > 0.01 %.
    round_trip_by_hand(sim, key_1, "hand")
    snapshot_connection(connection=key_1)
    snapshot_connection(connection=key_2)
    wallets = [
        ExchangeGateway.for_connection(k).wallet_balance().total_equity for k in (key_1, key_2)
    ]

    assert dashboard_summary(owner.tenant).equity == sum(wallets, Decimal(0))
    tenant_series = EquitySnapshot.objects.filter(tenant=owner.tenant, account=None, bot=None)
    assert tenant_series.order_by("-at").first().equity == sum(wallets, Decimal(0))
    sim.advance(minutes=15)
    run_due_ticks()
    bot_1.refresh_from_db()
    bot_2.refresh_from_db()
    assert bot_1.state == Bot.State.PAUSED and "loss" in bot_1.state_reason.lower()
    assert bot_2.state == Bot.State.RUNNING


def test_a_withdrawal_larger_than_the_limits_never_trips_the_breaker(sim):
    """Withdrawing 90 % of the account is capital leaving, not a loss: the bot keeps running,
    its drawdown peak follows the withdrawal, and the reported result excludes it."""
    owner = client_with_2fa()
    uid, key = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=key)
    Bot.objects.filter(pk=bot.pk).update(
        daily_loss_limit=Decimal("0.05"), max_drawdown=Decimal("0.05"), peak_equity=Decimal(10000)
    )
    snapshot_connection(connection=key)
    start = accounts_equity_sum(owner.tenant.pk)

    sim.admin("POST", f"/sim/accounts/{uid}/withdraw", {"amount": "9000"})
    snapshot_connection(connection=key)
    sim.advance(minutes=15)
    run_due_ticks()

    bot.refresh_from_db()
    assert bot.state == Bot.State.RUNNING, bot.state_reason
    assert not Alert.objects.filter(kind__startswith="breaker").exists()
    assert bot.peak_equity <= Decimal(1000)  # the peak moved with the withdrawal
    end = accounts_equity_sum(owner.tenant.pk)
    assert start is not None and end is not None
    flows = CapitalFlow.objects.filter(account=key.account, kind=CapitalFlow.Kind.WITHDRAWAL)
    assert flows.get().amount == Decimal(9000)
    assert performance(equity_start=start, equity_end=end, net_flows=Decimal(-9000)) == 0


def test_flows_are_all_recovered_after_a_ten_day_outage(sim):
    """Sixty deposits and withdrawals over ten days while nothing reconciled (more than a page of
    50 and a 7-day window): the next reconciliation records every one, once."""
    owner = client_with_2fa()
    uid, key = connect_live(sim, owner)
    running_bot(owner, mode=Bot.Mode.LIVE, connection=key)
    reconcile_connection(connection=key)
    assert CapitalFlow.objects.count() == 1  # the opening deposit

    for n in range(60):
        sim.advance(minutes=240)
        kind = "deposit" if n % 3 else "withdraw"
        sim.admin("POST", f"/sim/accounts/{uid}/{kind}", {"amount": "1"})
    report = reconcile_connection(connection=key)

    assert report.capital_flows == 60
    assert CapitalFlow.objects.filter(kind=CapitalFlow.Kind.WITHDRAWAL).count() == 20
    assert reconcile_connection(connection=key).capital_flows == 0


def test_a_dry_run_bot_has_its_own_equity_and_its_breaker_trips(sim):
    """A dry-run bot's equity is its notional start plus its simulated P&L, not a constant: a
    losing simulated position lowers it, and its daily-loss breaker trips as a live one would."""
    owner = client_with_2fa()
    bot = running_bot(owner, mode=Bot.Mode.DRY_RUN)
    run_due_ticks()  # candles in, a first decision
    snapshot_bot(bot=bot)  # the day's baseline
    baseline = EquitySnapshot.objects.filter(bot=bot).latest("at").equity
    # A long 1 BTC bought far above the market: a large open loss on the simulated book.
    BotPosition.objects.update_or_create(
        bot=bot,
        symbol=bot.symbol,
        defaults={"tenant_id": bot.tenant_id, "qty": Decimal("1"), "avg_price": Decimal("1000000")},
    )

    books = dry_run_books([bot], now=bot.created_at)[bot.pk]
    assert books.equity < baseline
    state = breaker_state(bot, accounts={}, dry_runs={bot.pk: books})
    assert state is not None and state.equity == books.equity and state.day_start_equity == baseline
    sim.advance(minutes=15)
    run_due_ticks()
    bot.refresh_from_db()
    assert bot.state == Bot.State.PAUSED


@pytest.mark.parametrize(
    ("peak", "flow", "equity_before", "expected"),
    [
        ("1000", "200", "800", "1200"),  # a deposit raises the peak by its amount
        ("1000", "-400", "800", "500"),  # half the equity withdrawn: half the peak
        ("1000", "-900", "1000", "100"),  # at the peak: the drawdown stays zero
        ("1000", "-50", None, "950"),  # no equity known before: lowered by the amount
        ("1000", "-2000", "1000", "0"),  # never below zero
    ],
)
def test_a_peak_moves_with_flows_so_a_flow_is_never_a_drawdown(peak, flow, equity_before, expected):
    """Worked by hand: the drawdown fraction is the same just before and just after a withdrawal."""
    before = Decimal(equity_before) if equity_before is not None else None
    assert peak_after_flow(Decimal(peak), Decimal(flow), before) == Decimal(expected)


def test_the_books_check_passes_true_books_and_reports_drift_to_the_operator(sim):
    """Recounted from the exchange, books kept by the engine match; a lost flow and a drifted
    position are both found, with the figures, in one operator alert."""
    owner = client_with_2fa()
    _uid, key = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=key)
    intent_send(
        intent=_intent(bot, "ts" + "4" * 32, "Buy", "0.01"),
        gateway=ExchangeGateway.for_connection(key),
    )
    sim.advance(minutes=1)
    reconcile_connection(connection=key)

    assert not books_check(connection=key).divergent
    assert not Alert.objects.filter(kind="books.divergence").exists()

    CapitalFlow.objects.filter(account=key.account).delete()
    BotPosition.objects.filter(bot=bot).update(qty=Decimal("0.5"))
    check = books_check(connection=key)

    assert (
        check.divergent
        and check.flows_missing
        and check.positions == {"BTCUSDT": ("0.5000000000", "0.01")}
    )
    alert = Alert.objects.get(kind="books.divergence")
    assert alert.tenant_id is None and alert.severity == "critical"
    assert "BTCUSDT position: ours 0.5000000000, exchange 0.01" in alert.message


def test_funding_on_a_held_position_is_pnl_of_its_bot_never_a_fill_or_a_flow(sim):
    """A position held across a funding time: the settlement reaches the bot's P&L once (from the
    catch-up, whichever way it arrives), leaves the position as it was, and is no capital flow."""
    owner = client_with_2fa()
    _uid, key = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=key)
    intent_send(
        intent=_intent(bot, "ts" + "5" * 32, "Buy", "0.01"),
        gateway=ExchangeGateway.for_connection(key),
    )
    sim.advance(minutes=1)
    reconcile_connection(connection=key)
    eight_hours = 8 * 60 * 60 * 1000
    sim.advance(to=(sim.now() // eight_hours + 1) * eight_hours + 60_000)  # past the next funding
    reconcile_connection(connection=key)
    reconcile_connection(connection=key)

    gateway = ExchangeGateway.for_connection(key)
    executions = gateway.executions_since(bot.created_at - timedelta(days=1))
    settlements = [e for e in executions if e.exec_type == "Funding"]
    assert len(settlements) == 1
    funding = BotFill.objects.get(bot=bot, kind=BotFill.Kind.FUNDING)
    assert funding.exec_id == settlements[0].exec_id and funding.fee == settlements[0].exec_fee
    position = BotPosition.objects.get(bot=bot)
    assert position.qty == _signed(gateway, "BTCUSDT") == Decimal("0.01")
    assert position.realised_pnl == -sum((e.exec_fee for e in executions), Decimal(0))
    assert not CapitalFlow.objects.exclude(kind=CapitalFlow.Kind.DEPOSIT).exists()
    assert CapitalFlow.objects.count() == 1


def test_resuming_a_bot_the_breaker_paused_starts_its_drawdown_afresh_and_says_so(
    sim, client, operator_client
):
    """A dry-run bot paused for drawdown: its page says what resuming does; resuming resets the
    peak to the equity now (audited) and settles the trip, so it trades on at the next candle.
    The operator's admin action resets a peak the same way, audited."""
    from accounts.models import AuditEvent
    from tests.factories import login_with_2fa

    owner = client_with_2fa()
    bot = running_bot(owner, mode=Bot.Mode.DRY_RUN)
    run_due_ticks()
    snapshot_bot(bot=bot)
    close = Candle.objects.filter(symbol=bot.symbol).latest("start").close
    # A long 0.01 BTC bought 10 % above the market: an open loss of about 1 % of the equity.
    BotPosition.objects.update_or_create(
        bot=bot,
        symbol=bot.symbol,
        defaults={
            "tenant_id": bot.tenant_id,
            "qty": Decimal("0.01"),
            "avg_price": close * Decimal("1.1"),
        },
    )
    Bot.objects.filter(pk=bot.pk).update(
        daily_loss_limit=Decimal("0.99"), max_drawdown=Decimal("0.005")
    )
    sim.advance(minutes=15)
    run_due_ticks()
    bot.refresh_from_db()
    assert bot.state == Bot.State.PAUSED and "Drawdown" in bot.state_reason

    login_with_2fa(client, owner)
    page = client.get("/app/").content.decode()
    assert "Paused by the circuit breaker" in page
    response = client.post(f"/app/bots/{bot.pk}/resume/", {"next": "/app/"})
    assert response.status_code in (302, 303), response.content[:300]

    bot.refresh_from_db()
    equity = dry_run_books([bot], now=bot.updated_at)[bot.pk].equity
    assert bot.state == Bot.State.RUNNING and bot.peak_equity == equity
    assert AuditEvent.objects.filter(action="bot.peak_reset", tenant=owner.tenant).count() == 1
    assert not Alert.objects.filter(
        bot=bot, kind__startswith="breaker.", dismissed_at=None
    ).exists()
    sim.advance(minutes=15)
    run_due_ticks()
    bot.refresh_from_db()
    assert bot.state == Bot.State.RUNNING, bot.state_reason

    admin = operator_client
    response = admin.post(
        "/admin/bots/bot/", {"action": "reset_peak", "_selected_action": [bot.pk]}
    )
    assert response.status_code == 302, response.content[:300]
    assert AuditEvent.objects.filter(action="bot.peak_reset", tenant=owner.tenant).count() == 2


def test_the_opening_deposit_is_never_taken_for_a_flow_after_the_first_wallet_reading(sim):
    """A live bot's first tick reads the wallet (no snapshot yet); reconciliation only runs after
    it. The opening deposit is already in that reading: it must not count as money that arrived
    after the day's baseline (which would show a 50 % loss and trip the breaker)."""
    owner = client_with_2fa()
    _uid, key = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=key)
    run_due_ticks()  # the first sizing: wallet read, flows synced, the account's first snapshot
    reconcile_connection(connection=key)
    sim.advance(minutes=15)
    run_due_ticks()

    bot.refresh_from_db()
    assert bot.state == Bot.State.RUNNING, bot.state_reason
    assert not Alert.objects.filter(kind__startswith="breaker").exists()
    assert CapitalFlow.objects.filter(account=key.account).count() == 1
