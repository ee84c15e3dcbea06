"""The demo catalog is consistent, and the demos stay out of the TUI's dependencies."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from ipctop.demos import DEMOS, DemoRun
from ipctop.demos.ccalls import cstr, ipc_flags, open_flags, wait_status


def test_every_entry_names_a_script_and_a_one_line_description():
    assert len({info.name for info in DEMOS}) == len(DEMOS)
    for info in DEMOS:
        module, function = info.entry.split(":")
        assert callable(getattr(importlib.import_module(module), function)), info.entry
        assert "\n" not in info.description and len(info.description) < 100
        assert info.steps > 0 and len(info.role) <= 15


def test_the_demos_import_no_textual():
    code = "import sys, ipctop.demos.worker, ipctop.demos, ipctop.cli.demo_cmd; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf"), "2"])
def test_demo_run_refuses_a_bad_speed(speed):
    with pytest.raises(ValueError, match="speed"):
        DemoRun("pipe", speed=speed)


def test_demo_run_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="no demo is named 'nope'; the demos are: pipe, "):
        DemoRun("nope")


def test_calls_are_written_as_in_c():
    assert cstr(b"hello\n") == '"hello\\n"'
    assert cstr(b"x" * 40, 4) == '"xxxx"…'
    assert ipc_flags(0o1000 | 0o2000 | 0o666) == "IPC_CREAT|IPC_EXCL|0666"
    assert ipc_flags(0o1000 | 0o2000) == "IPC_CREAT|IPC_EXCL"
    assert open_flags(os.O_WRONLY | os.O_NONBLOCK) == "O_WRONLY|O_NONBLOCK"
    assert wait_status(13) == "status 0x000d: WIFSIGNALED, WTERMSIG = 13 (SIGPIPE)"
    assert wait_status(43 << 8) == "status 0x2b00: WIFEXITED, WEXITSTATUS = 43"
