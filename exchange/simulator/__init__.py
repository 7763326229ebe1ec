"""A local Bybit v5 exchange that the real pybit client (and any other v5 client) can trade against.

The simulator runs as its own process (``python -m exchange.simulator serve ...``), replays real
candles, keeps its state in a SQLite file and never imports Django. See docs/simulator.md.
"""
