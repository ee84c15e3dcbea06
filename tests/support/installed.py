"""The `ipctop` command the suite tests: the console script installed beside the Python running it.

`scripts/install --test` puts it in the checkout's .venv/bin, which need not be on PATH (the
suite runs as `.venv/bin/python -m pytest`); a command on PATH is the fallback.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def installed_ipctop() -> str | None:
    beside = Path(sys.executable).with_name("ipctop")
    if beside.is_file():
        return str(beside)
    return shutil.which("ipctop")
