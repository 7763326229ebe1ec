"""Client-facing account views, one module per page family."""
