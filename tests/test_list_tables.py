"""`ipctop list` tables: whole when piped, fitted to a terminal's width, pipes with their state words."""

from __future__ import annotations

import subprocess
import sys

from ipctop.render.tables import pipe_table, process_table, shm_table
from tests.support.fixture_snapshot import fixture_snapshots


def test_a_terminals_width_leaves_out_the_least_important_columns_and_cuts_lists():
    snapshot = fixture_snapshots()[-1]
    whole = shm_table(snapshot)
    assert "PERMS" in whole and "postgres: checkpointer[3002]" in whole  # named by its title
    for width in (60, 80, 100):
        for render in (shm_table, pipe_table, process_table):
            text = render(snapshot, width)
            assert max(len(line) for line in text.splitlines()) <= width, (render.__name__, width, text)
    narrow = shm_table(snapshot, 60).splitlines()
    assert "PERMS" not in narrow[0] and narrow[0].startswith("KEY") and "ATTACHED" in narrow[0]


def test_pipes_carry_the_monitors_state_words():
    text = pipe_table(fixture_snapshots()[-1])
    assert "STATE" in text.splitlines()[0]
    lines = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert "writer blocked (full)" in lines["50003"]  # the producer sleeps in pipe_write on a full pipe
    assert "no reader → SIGPIPE" in lines["50005"]


def test_piped_output_is_whole():
    command = [sys.executable, "-m", "ipctop", "list", "--type", "pipe"]
    # COLUMNS=40 would narrow a terminal's tables; piped, every column is printed in full.
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env={"COLUMNS": "40"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split() == [
        "INODE", "STATE", "WAITING", "CAPACITY", "WRITERS", "READERS", "WAITERS"]
