"""The gateway to Bybit v5 and the local simulator (``exchange.simulator`` has no Django imports)."""
