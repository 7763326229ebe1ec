"""Writes of the billing app: subscriptions and terms, the period close, invoices and their numbers."""
