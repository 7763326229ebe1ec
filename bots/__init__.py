"""Bots as rows: strategies, risk templates, ticks, order intents, reconciliation (issue 7)."""
