"""Monthly and performance fees above a high-water mark, invoices and payments."""

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"
