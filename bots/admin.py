"""Admin registrations of the bots app."""
