"""``manage.py run_streams --shard N --shards M``: hold one shard's Bybit streams until stopped."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Hold the public kline/ticker streams for symbols in use and the private "
        "order/execution/position/wallet streams of active connections, for one shard. Scale by "
        "running one process per shard number (0..shards-1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shard", type=int, default=0)
        parser.add_argument("--shards", type=int, default=1)
        parser.add_argument(
            "--seconds", type=float, default=0, help="stop after this long (0: until SIGTERM)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from exchange.streams.runner import StreamRunner

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        if options["seconds"]:
            threading.Timer(options["seconds"], stop.set).start()
        runner = StreamRunner(options["shard"], options["shards"])
        runner.start()
        self.stdout.write(f"streams: shard {options['shard']}/{options['shards']} running")
        try:
            runner.run(stop)
        finally:
            runner.stop()
            self.stdout.write("streams: stopped")
