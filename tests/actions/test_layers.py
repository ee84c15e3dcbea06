"""The actions layer and the action commands import no textual or rich: the CLI stays fast."""

from __future__ import annotations

import subprocess
import sys

HEADLESS = [
    "ipctop.actions.validators",
    "ipctop.actions.operations",
    "ipctop.actions.holdings",
    "ipctop.actions.confirmations",
    "ipctop.actions.hexdump",
    "ipctop.actions.requests",
    "ipctop.cli.shm_cmd",
    "ipctop.cli.msg_cmd",
    "ipctop.cli.sem_cmd",
    "ipctop.cli.kill_cmd",
]


def test_actions_and_their_commands_import_no_ui():
    code = "\n".join(f"import {m}" for m in HEADLESS)
    code += "\nfrom ipctop.cli.main import main\nimport contextlib, io\n"
    code += "with contextlib.redirect_stderr(io.StringIO()):\n    assert main(['shm', 'read', 'x']) == 2\n"
    code += "import sys\nprint(','.join(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
