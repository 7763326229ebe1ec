"""Cells for CSV files people open in a spreadsheet.

Text that starts like a formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``, a tab or a carriage
return) would be run by Excel or LibreOffice when the file is opened: a bot or key label chosen
by one person becomes a command on another's machine. Such text is prefixed with an apostrophe;
times are ISO 8601 UTC and numbers stay exact decimals.
"""

from __future__ import annotations

from datetime import datetime

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """One value as a safe CSV cell."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
