"""Bybit v5 WebSocket streams: one process per shard (``manage.py run_streams --shard N --shards M``).

- ``sockets``: asyncio WebSocket clients (aiohttp) that authenticate, subscribe, ping every 20 s,
  reconnect with jittered backoff and resubscribe. They never touch the database: every message goes
  onto a thread-safe queue.
- ``runner``: the process's main thread. It drains that queue, stores what arrived (executions
  idempotently by exec id, confirmed klines as candles, tickers in Redis), hands typed events to the
  engine (``events.dispatch``), runs the REST catch-up after every (re)connect so no execution is
  missed, follows the shard's assignment, and keeps its ``StreamShard`` heartbeat.
- ``events``: the typed events and the hook the engine implements (``EXCHANGE_STREAM_HANDLERS``).
"""
