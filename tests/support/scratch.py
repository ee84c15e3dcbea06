"""Temporary files and directories of the tests, made inside the run's own directory.

The run's directory (/tmp/ipctop-tests-XXXXXXXX, tests/conftest.py) is removed when the
run ends, and by the next run when this one was killed before it could.  A directory made
with a bare `tempfile.mkdtemp()` would outlive a killed run for good; made here, it goes
with the run's.  Where the run has no directory of its own (pytest was given --basetemp),
they are made in the usual temporary directory and removed by the tests that made them.
"""

from __future__ import annotations

import os
import tempfile

SCRATCH_VARIABLE = "IPCTOP_TEST_SCRATCH"  # set by tests/conftest.py for the run and the processes it starts


def scratch_root() -> str | None:
    """The run's directory for temporary files, or None (then the usual one)."""
    return os.environ.get(SCRATCH_VARIABLE) or None


def scratch_dir(prefix: str) -> str:
    """A new directory of the test's own, as tempfile.mkdtemp makes one."""
    return tempfile.mkdtemp(prefix=prefix, dir=scratch_root())


def scratch_file(prefix: str) -> str:
    """The path of a new empty file of the test's own."""
    fd, path = tempfile.mkstemp(prefix=prefix, dir=scratch_root())
    os.close(fd)
    return path
