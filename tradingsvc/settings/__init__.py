"""Settings profiles: ``demo`` (no servers), ``test`` (local PostgreSQL and Redis), ``production``."""
