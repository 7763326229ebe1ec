"""Billing: its layer (above reports, below the portal) is reserved; nothing is built here yet."""

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"
