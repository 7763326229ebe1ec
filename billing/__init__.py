"""Monthly and performance fees above a high-water mark, invoices and payments."""
