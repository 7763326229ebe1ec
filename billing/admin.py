"""Admin registrations of the billing app."""
