"""The cleanup is importable and runs without textual or rich (cron jobs, and the TUI's Leaks view on top)."""

from __future__ import annotations

import subprocess
import sys

CLEANUP_MODULES = ["ipctop.cleanup", "ipctop.cleanup.leaks", "ipctop.cleanup.recheck", "ipctop.cleanup.backup",
                   "ipctop.cleanup.restore", "ipctop.cleanup.remove", "ipctop.cleanup.waiters",
                   "ipctop.cli.clean_cmd"]


def test_cleanup_and_a_clean_run_import_no_ui():
    code = "\n".join(f"import {m}" for m in CLEANUP_MODULES)
    code += "\nimport contextlib, io, sys\nfrom ipctop.cli.main import main\n"
    code += "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['clean', '--key', '0x49500000']) == 0\n"
    code += "print(','.join(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
