"""The layers below the UI never import textual or rich (they must start fast and run headless)."""

from __future__ import annotations

import subprocess
import sys

HEADLESS = [
    "ipctop.model",
    "ipctop.kernel.sysv",
    "ipctop.collectors.procfs",
    "ipctop.collectors.sysvipc",
    "ipctop.collectors.attachments",
    "ipctop.collectors.fds",
    "ipctop.collectors.syscalls",
    "ipctop.collectors.waits",
    "ipctop.collectors.processes",
    "ipctop.collectors.ipcstate",
    "ipctop.collectors.limits",
    "ipctop.snapshot",
    "ipctop.diff",
    "ipctop.query",
    "ipctop.render.tables",
    "ipctop.render.jsonout",
    "ipctop.render.waits",
]


def _imported_ui_modules(code: str) -> str:
    check = code + "\nimport sys\nprint(','.join(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_collectors_snapshot_and_diff_import_no_ui():
    assert _imported_ui_modules("\n".join(f"import {m}" for m in HEADLESS)) == ""


def test_list_json_imports_no_ui():
    code = "import contextlib, io\nfrom ipctop.cli.main import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    code += "    assert main(['list', '--json']) == 0"
    assert _imported_ui_modules(code) == ""
