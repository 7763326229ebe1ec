"""Serves the Plotly bundle that ships inside the ``plotly`` package as ``vendor/plotly.min.js``.

Charts load Plotly from our own static files (never a CDN), and the file stays whatever version
``uv.lock`` pins instead of a copy committed by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"
SERVED = {"vendor/plotly.min.js": "plotly.min.js"}


class PlotlyFinder(BaseFinder):
    storage = FileSystemStorage(location=str(PLOTLY_DIR))

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(  # type: ignore[override]  # the stubs lag Django 5.2's find_all keyword
        self, path: str, find_all: bool = False, **kwargs: Any
    ) -> str | list[str]:
        name = SERVED.get(path)
        if name is None:
            return [] if find_all else ""
        found = str(PLOTLY_DIR / name)
        return [found] if find_all else found

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        for served, name in SERVED.items():
            storage = FileSystemStorage(location=str(PLOTLY_DIR))
            storage.prefix = served.rsplit("/", 1)[0]  # type: ignore[attr-defined]
            yield name, storage
