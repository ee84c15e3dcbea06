"""What the namespace tests share: the installed ipctop, and ipcs/lsipc run inside a namespace (the reference)."""

from __future__ import annotations

import json
import subprocess
import sys


def ipctop(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ipctop", *args], capture_output=True, text=True, timeout=60)


def inside(pid: int, *command: str) -> str:
    """What a command prints when run inside pid's IPC namespace (and in ours for the rest)."""
    return subprocess.run(["nsenter", "-t", str(pid), "-i", *command], capture_output=True, text=True,
                          check=True).stdout


def lsipc_inside(pid: int, kind: str, columns: str) -> list[dict]:
    """`lsipc KIND --json -b -o COLUMNS` inside pid's IPC namespace: its objects, every value a string."""
    answer = json.loads(inside(pid, "lsipc", kind, "--json", "-b", "-o", columns) or "{}")
    return next(iter(answer.values()), [])
