"""Writes and side effects of the accounts app, one module per concern."""
