"""Admin registrations of the exchange app."""
