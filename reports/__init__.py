"""Monthly client reports and accountant exports."""
