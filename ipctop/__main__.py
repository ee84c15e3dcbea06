"""`python -m ipctop` runs the same entry point as the `ipctop` console script."""

from ipctop.cli.main import main

raise SystemExit(main())
