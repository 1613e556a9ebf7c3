"""``python -m trafficsim``: the same command line as ``trafficsim``."""

from trafficsim.runner.cli import main

raise SystemExit(main())
