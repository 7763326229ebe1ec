"""Trading history at scale for the web-page benchmark and tests: orders, fills, equity.

Written with bulk inserts (no engine involved) so a year of 5-minute snapshots and 100,000
orders take seconds; the shapes are the engine's own (intents with orderLinkIds, fills with
realised P&L net of fees, snapshots per tenant and per bot), then rollups are rebuilt.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from bots.models import Bot, BotFill, BotPosition, EquitySnapshot, OrderIntent
from reports.services.rollups import rollups_rebuild
from reports.services.trades import trade_rollups_refresh

SNAPSHOT_STEP = timedelta(minutes=5)
BATCH = 5000


def seed_history(
    *, bot: Bot, orders: int, days: int, now: datetime | None = None, seed: int = 7
) -> dict[str, int]:
    """``orders`` filled market orders spread over ``days`` and 5-minute equity snapshots for
    the account and the bot over the same span; returns the row counts written."""
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    now = now or timezone.now()
    start = now - timedelta(days=days)
    spacing = (now - start) / max(orders, 1)
    intents, fills = [], []
    price = Decimal("60000")
    for i in range(orders):
        at = start + spacing * i
        price = (price * Decimal(1 + rng.gauss(0, 0.002))).quantize(Decimal("0.1"))
        side = "Buy" if i % 2 == 0 else "Sell"
        qty = Decimal("0.010")
        fee = (price * qty * Decimal("0.00055")).quantize(Decimal("0.00000001"))
        pnl = Decimal(str(round(rng.gauss(0.5, 6), 4))) if i % 2 else Decimal(0)
        intents.append(
            OrderIntent(
                tenant_id=bot.tenant_id,
                bot=bot,
                order_link_id=f"perf-{bot.pk}-{seed}-{i}",
                symbol=bot.symbol,
                side=side,
                qty=qty,
                state=OrderIntent.State.FILLED,
                filled_qty=qty,
                avg_fill_price=price,
                reason="EMA 12 crossed EMA 26.",
                sent_at=at,
                resolved_at=at,
            )
        )
        fills.append(
            BotFill(
                tenant_id=bot.tenant_id,
                bot=bot,
                exec_id=f"perf-{bot.pk}-{seed}-{i}",
                symbol=bot.symbol,
                side=side,
                price=price,
                qty=qty,
                fee=fee,
                realised_pnl=pnl - fee,
                simulated=True,
                exec_time=at,
            )
        )
    OrderIntent.objects.bulk_create(intents, batch_size=BATCH)
    # created_at is auto_now_add: spread it over the span as the engine would have.
    for offset in range(0, orders, BATCH):
        chunk = intents[offset : offset + BATCH]
        for intent in chunk:
            intent.created_at = intent.sent_at  # type: ignore[assignment]
        OrderIntent.objects.bulk_update(chunk, ["created_at"], batch_size=BATCH)
    BotFill.objects.bulk_create(fills, batch_size=BATCH)
    snapshots = []
    equity, bot_pnl = Decimal("10000"), Decimal(0)
    at = start
    while at <= now:
        equity += Decimal(str(round(rng.gauss(0.02, 4), 2)))
        bot_pnl += Decimal(str(round(rng.gauss(0.01, 2), 2)))
        snapshots.append(EquitySnapshot(tenant_id=bot.tenant_id, at=at, equity=equity))
        snapshots.append(
            EquitySnapshot(
                tenant_id=bot.tenant_id,
                bot=bot,
                at=at,
                equity=bot_pnl,
                realised_pnl=bot_pnl,
            )
        )
        at += SNAPSHOT_STEP
    EquitySnapshot.objects.bulk_create(snapshots, batch_size=BATCH)
    # The bot's position carries the same P&L as its last snapshot, as the engine's would.
    BotPosition.objects.update_or_create(
        bot=bot, symbol=bot.symbol, defaults={"tenant_id": bot.tenant_id, "realised_pnl": bot_pnl}
    )
    rollups = rollups_rebuild(tenant_id=bot.tenant_id)
    trade_days = trade_rollups_refresh(today=now.date(), days=days + 1)
    return {
        "orders": orders,
        "fills": orders,
        "snapshots": len(snapshots),
        "rollups": rollups,
        "trade_days": trade_days,
    }
