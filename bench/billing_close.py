"""The monthly close for many tenants: wall time and database queries per tenant.

    .venv/bin/python bench/billing_close.py                  # 10,000 tenants
    .venv/bin/python bench/billing_close.py --tenants 1000

Creates N subscribed tenants, each with one exchange account, a wallet reading before the month
and one at its end, and (one tenant in ten) a deposit and a withdrawal inside the month; then
closes the month for every tenant in this one process, as the per-tenant Celery tasks would one
after another (``period_close``), counting every query. It prints the wall time, the time and the
queries per tenant (min, median, max, for tenants without and with flows), and checks that the
invoice numbers run from 1 to N without a gap.

It uses its own PostgreSQL database (``bench_billing``) and Redis database 13, so it never touches
test or demo data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_billing"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "LOG_LEVEL": "WARNING",
    }
)


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(
        dbname="postgres", user="postgres", host="127.0.0.1", autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def seed(count: int) -> list[tuple[Any, bool]]:
    """N tenants with their books for October 2026; returns (tenant id, has flows)."""
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from accounts.models import Tenant
    from billing.models import Plan, Subscription
    from bots.models import CapitalFlow, EquitySnapshot
    from exchange.models import ExchangeAccount

    plan = Plan.objects.get(slug="standard")
    tenants = Tenant.objects.bulk_create(Tenant(name=f"Bench {n}") for n in range(count))
    Subscription.objects.bulk_create(
        Subscription(tenant=t, plan=plan, starts_on=date(2026, 9, 1)) for t in tenants
    )
    accounts = ExchangeAccount.objects.bulk_create(
        ExchangeAccount(tenant=t, environment="testnet", exchange_uid=str(800000 + n))
        for n, t in enumerate(tenants)
    )
    before = datetime(2026, 9, 30, 23, 55, tzinfo=UTC)
    mid = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
    end = datetime(2026, 10, 31, 23, 55, tzinfo=UTC)
    snapshots: list[EquitySnapshot] = []
    flows: list[CapitalFlow] = []
    out: list[tuple[Any, bool]] = []
    for n, account in enumerate(accounts):
        with_flows = n % 10 == 0
        snapshots.append(
            EquitySnapshot(
                tenant_id=account.tenant_id, account=account, at=before, equity=Decimal(10000)
            )
        )
        snapshots.append(
            EquitySnapshot(
                tenant_id=account.tenant_id,
                account=account,
                at=end,
                equity=Decimal(10000 + n % 700),
            )
        )
        if with_flows:
            for k, (kind, amount) in enumerate(
                ((CapitalFlow.Kind.DEPOSIT, 1000), (CapitalFlow.Kind.WITHDRAWAL, 500))
            ):
                flows.append(
                    CapitalFlow(
                        tenant_id=account.tenant_id,
                        account=account,
                        exchange_id=f"b{n}-{k}",
                        kind=kind,
                        amount=Decimal(amount),
                        at=mid,
                    )
                )
        out.append((account.tenant_id, with_flows))
    EquitySnapshot.objects.bulk_create(snapshots, batch_size=5000)
    CapitalFlow.objects.bulk_create(flows, batch_size=5000)
    # recorded_at is our clock (auto_now_add): put the flows inside October.
    CapitalFlow.objects.update(recorded_at=mid)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=10_000)
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from datetime import date

    from django.core.management import call_command
    from django.db import connection

    from billing.models import Invoice
    from billing.services.close import period_close

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    tenants = seed(args.tenants)
    print(f"seeded {args.tenants} tenants in {time.perf_counter() - started:.1f} s")

    executed = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed[0] += 1
        return execute(sql, params, many, context)

    per_tenant: dict[bool, list[tuple[float, int]]] = {False: [], True: []}
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        for tenant_id, with_flows in tenants:
            t0, q0 = time.perf_counter(), executed[0]
            period_close(
                tenant_id=tenant_id, period_start=date(2026, 10, 1), issued_on=date(2026, 11, 1)
            )
            per_tenant[with_flows].append((time.perf_counter() - t0, executed[0] - q0))
    wall = time.perf_counter() - started

    numbers = sorted(n for n in Invoice.objects.values_list("number", flat=True) if n is not None)
    print(
        f"closed {len(numbers)} tenants in {wall:.1f} s ({wall / len(tenants) * 1000:.2f} ms per tenant)"
    )
    for with_flows, rows in per_tenant.items():
        if not rows:
            continue
        ms = [t * 1000 for t, _ in rows]
        counts = [q for _, q in rows]
        label = "with 2 flows" if with_flows else "without flows"
        print(
            f"  {label:14} n={len(rows):6}  ms p50 {statistics.median(ms):.2f} max {max(ms):.2f}"
            f"  queries min {min(counts)} median {statistics.median(counts):.0f} max {max(counts)}"
        )
    gap_free = numbers == list(range(1, len(tenants) + 1))
    print(f"numbers 1..{len(tenants)} without a gap: {gap_free}")


if __name__ == "__main__":
    main()
