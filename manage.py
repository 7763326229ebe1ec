#!/usr/bin/env python
"""Django's command-line utility for tradingsvc."""

import os
import sys


def main() -> None:
    # The demo profile is the safe default for a checkout: it needs no servers and holds no real secrets.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradingsvc.settings.demo")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
