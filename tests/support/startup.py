"""Which modules a fresh `ipctop list --json` imports: what start-up tests check it no longer pays for."""

from __future__ import annotations

import subprocess
import sys


def list_json_imports(*modules: str) -> dict[str, bool]:
    """For each of `modules`, whether `ipctop list --json` run in a fresh interpreter imported it
    (the look must succeed: its exit code is checked)."""
    program = ("import sys\n"
               "from ipctop.cli.main import main\n"
               "code = main(['list', '--json'])\n"
               f"print(code, *(name in sys.modules for name in {list(modules)!r}), file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    code, *flags = run.stderr.split()[-1 - len(modules):]
    assert code == "0", run.stderr[-2000:]
    return dict(zip(modules, (flag == "True" for flag in flags), strict=True))
