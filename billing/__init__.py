"""Billing (not built yet): the app holds its place in the layer contract."""
