"""Writes of the bots app, one module per concern."""
