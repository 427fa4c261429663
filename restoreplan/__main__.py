"""Allow ``python -m restoreplan``."""

from restoreplan.cli.main import main

raise SystemExit(main())
