"""Run ipctop's command line for a test: in-process, as `nobody`, or as a process.

In-process runs catch argparse's SystemExit and capture stdout as bytes too;
`run_as_nobody` forks after the imports (nobody cannot read /root, where this
Python lives) and drops privileges; `started` runs `python -m ipctop ...` and
ends it by pid whatever happens.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ipctop.cli.main import main
from tests.support.unprivileged import NOBODY, run_as_nobody  # noqa: F401 - re-exported for the tests


@dataclass
class Result:
    code: int
    out: str
    err: str
    raw: bytes

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line]


def ipctop(*argv: object) -> Result:
    """`ipctop ARGV...` in this process; any exception other than SystemExit propagates."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape", write_through=True)
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    out.flush()
    raw = out.buffer.getvalue()  # type: ignore[attr-defined]
    return Result(code, raw.decode("utf-8", "replace"), err.getvalue(), raw)




def nobody_runs(*argv: object) -> Result:
    value = run_as_nobody(lambda: ipctop(*argv).__dict__ | {"raw": ""})
    assert isinstance(value, dict)
    return Result(value["code"], value["out"], value["err"], b"")


@contextlib.contextmanager
def started(*argv: object) -> Iterator[subprocess.Popen]:
    """`python -m ipctop ARGV...` as a child process, ended by pid (SIGKILL) if still running."""
    popen = subprocess.Popen(
        [sys.executable, "-m", "ipctop", *map(str, argv)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield popen
    finally:
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(popen.pid, signal.SIGKILL)
        popen.communicate(timeout=10)


def sysvipc_row(kind: str, ident: int) -> dict[str, str] | None:
    """The /proc/sysvipc row of an object by id, as column name -> text."""
    with open(f"/proc/sysvipc/{kind}") as f:
        header, *lines = f.read().splitlines()
    names = header.split()
    for line in lines:
        values = line.split()
        if values and int(values[1]) == ident:
            return dict(zip(names, values, strict=False))
    return None


def maps_mention(pid: int, shmid: int) -> list[str]:
    """Lines of /proc/PID/maps that map System V segment `shmid`."""
    with open(f"/proc/{pid}/maps") as f:
        return [line for line in f if "/SYSV" in line and line.split()[4] == str(shmid)]
