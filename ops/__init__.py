"""Operations: background-run records, worker heartbeats, health checks, live-update sockets."""
