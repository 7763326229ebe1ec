"""Clients, tenants, memberships and authentication."""
