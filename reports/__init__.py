"""Performance: equity and trade rollups, and the metrics the performance page shows."""
