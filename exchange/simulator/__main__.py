"""Entry point for ``python -m exchange.simulator``."""

import sys

from exchange.simulator.cli import main

sys.exit(main())
