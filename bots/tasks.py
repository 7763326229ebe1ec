"""Thin tasks of the engine; the work is in ``bots.services``."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task


@shared_task(name="bots.dispatch_ticks")
def dispatch_ticks() -> int:
    """Beat, every few seconds: one tick per running bot per newly closed candle."""
    from bots.services.ticks import ticks_dispatch

    return len(ticks_dispatch())


@shared_task(name="bots.tick_batch", track_runs=False)
def tick_batch(bot_ids: list[int], candle_start: str) -> int:
    """Ticks of several bots for one candle, read and written together; each is fenced and isolated."""
    from bots.services.ticks import ticks_run

    ticks_run(bot_ids=bot_ids, candle_start=datetime.fromisoformat(candle_start))
    return len(bot_ids)


@shared_task(name="bots.reconcile_all")
def reconcile_all() -> int:
    """Beat (every minute) and worker start: one reconciliation per exchange account with bots,
    through the key that speaks for it, and another enforcement pass of every engaged kill switch
    not yet enforced."""
    from bots.models import KillSwitch
    from bots.selectors import accounts_in_use
    from exchange.services.accounts import account_speaking_connection

    queued = 0
    for account_id in accounts_in_use():
        connection = account_speaking_connection(account_id)
        if connection is not None:
            reconcile.delay(connection_id=connection.pk)
            queued += 1
    for switch_id in KillSwitch.objects.filter(active=True, enforced_at=None).values_list(
        "id", flat=True
    ):
        enforce_kill_switch.delay(switch_id=switch_id)
    return queued


@shared_task(name="bots.reconcile")
def reconcile(connection_id: int) -> dict[str, object]:
    from bots.services.reconcile import reconcile_connection
    from exchange.models import ExchangeConnection

    connection = ExchangeConnection.objects.get(pk=connection_id)
    return reconcile_connection(connection=connection).__dict__


@shared_task(
    name="bots.tenant_halt",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=20,
)
def tenant_halt(tenant_id: str) -> dict[str, int]:
    """Enqueued when a tenant is suspended or disabled (``on_accounts_event``): cancel its open
    orders (retried on exchange errors; reconciliation also cancels on each run meanwhile)."""
    import uuid

    from bots.services.protection import tenant_trading_halt

    return tenant_trading_halt(tenant_id=uuid.UUID(tenant_id))


@shared_task(
    name="bots.enforce_kill_switch",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=50,
)
def enforce_kill_switch(switch_id: int) -> dict[str, int]:
    """Another enforcement pass of an engaged switch some bots of which failed (exchange errors);
    raises while any still fails, so Celery retries with backoff. ``reconcile_all`` re-queues
    switches still not enforced, should the retries run out."""
    from bots.models import KillSwitch
    from bots.services.protection import KillSwitchIncomplete, kill_switch_enforce

    switch = KillSwitch.objects.filter(pk=switch_id, active=True, enforced_at=None).first()
    if switch is None:
        return {}
    counts = kill_switch_enforce(switch=switch, retry=False)
    if counts["failed"]:
        raise KillSwitchIncomplete(f"{counts['failed']} bot(s) not done yet")
    return counts


@shared_task(name="bots.snapshot_equity")
def snapshot_equity() -> int:
    """Beat, every few minutes: equity per tenant (wallet) and per bot."""
    from bots.models import Bot
    from bots.selectors import accounts_in_use
    from bots.services.snapshots import snapshot_bot, snapshot_connection
    from exchange.services.accounts import account_speaking_connection

    done = 0
    for account_id in accounts_in_use(include_stopped=True):
        connection = account_speaking_connection(account_id)
        if connection is not None:
            snapshot_connection(connection=connection)
            done += 1
    for bot in Bot.objects.filter(connection=None).exclude(state=Bot.State.DRAFT):
        snapshot_bot(bot=bot)
        done += 1
    return done


@shared_task(
    name="bots.deliver_alert", autoretry_for=(Exception,), retry_backoff=True, max_retries=5
)
def deliver_alert(alert_id: int) -> dict[str, bool]:
    """Email and webhook for one alert, to its tenant and (when it is theirs too) the staff; each
    channel is stamped once it succeeded."""
    from bots.models import Alert
    from bots.services.alerts import alert_deliver_operator
    from bots.services.notify import alert_deliver

    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return {}
    return {**alert_deliver(alert=alert), "operator": alert_deliver_operator(alert=alert)}


@shared_task(name="bots.watch")
def watch() -> dict[str, int]:
    """Beat, every 5 minutes: long-open positions, losses past thresholds, silent streams."""
    from bots.services.watch import watch_connectivity, watch_losses, watch_positions

    return {
        "positions": watch_positions(),
        "losses": watch_losses(),
        "connectivity": watch_connectivity(),
    }


@shared_task(name="bots.books_check")
def books_check() -> dict[str, int]:
    """Beat, daily: every account recounted from the exchange; a divergence alerts the operator."""
    from bots.selectors import accounts_in_use
    from bots.services.books import books_check as check_account
    from exchange.services.accounts import account_speaking_connection

    checked = divergent = 0
    for account_id in accounts_in_use(include_stopped=True):
        connection = account_speaking_connection(account_id)
        if connection is None:
            continue
        checked += 1
        divergent += check_account(connection=connection).divergent
    return {"checked": checked, "divergent": divergent}


def on_accounts_event(event: object) -> None:
    """``ACCOUNTS_EVENT_HANDLERS``: a halted tenant's open orders are cancelled, here and now when
    asked (erasure, before the keys go), else by ``tenant_halt`` in the background."""
    from accounts.events import TradingHalted

    if not isinstance(event, TradingHalted):
        return
    if event.now:
        tenant_halt.run(tenant_id=str(event.tenant.pk))
    else:
        tenant_halt.delay(str(event.tenant.pk))
