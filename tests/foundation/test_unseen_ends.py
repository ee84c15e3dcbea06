"""A pipe end held by a process ipctop cannot see: the kernel is asked before "no reader" or "no writer"
is said.  Real pipes between a root parent and an unprivileged child that scans."""

from __future__ import annotations

import os

from ipctop.model import Pipe
from ipctop.pipelines import pipe_state
from ipctop.snapshot import take_snapshot
from tests.support.unprivileged import run_as_nobody


def test_as_an_ordinary_user_an_end_held_by_roots_process_is_not_said_to_be_missing():
    held_r, held_w = os.pipe()  # root (this process) keeps the read end: nobody cannot see it
    lone_r, lone_w = os.pipe()
    os.close(lone_r)  # no process at all reads this one
    fed_r, fed_w = os.pipe()  # and this one is fed by root, read by nobody
    try:
        def look() -> dict:
            os.close(held_r)
            os.close(fed_w)
            snapshot = take_snapshot()
            mine = {os.fstat(fd).st_ino: name for fd, name in ((held_w, "held"), (lone_w, "lone"), (fed_r, "fed"))}
            found = {}
            for inode, pipe in snapshot.pipes.items():
                if inode in mine:
                    ends = sorted({(e.pid == os.getpid(), e.mode) for e in pipe.ends})
                    found[mine[inode]] = {"ends": ends, "unseen": pipe.unseen, "state": pipe_state(pipe).code}
            return {"pipes": found, "uninspected": len(snapshot.uninspectable)}

        seen = run_as_nobody(look)
    finally:
        for fd in (held_r, held_w, lone_w, fed_r, fed_w):
            os.close(fd)
    pipes = seen["pipes"]
    assert seen["uninspected"] > 0  # root's processes, this one among them
    # each seen only from nobody's side
    assert [pipes[name]["ends"] for name in ("held", "lone", "fed")] == [[[True, "w"]], [[True, "w"]], [[True, "r"]]]
    # root's read end, unseen, is there all the same: not "no reader → SIGPIPE"
    assert (pipes["held"]["unseen"], pipes["held"]["state"]) == ("r", "idle")
    # root's write end likewise: not "no writer → EOF"
    assert (pipes["fed"]["unseen"], pipes["fed"]["state"]) == ("w", "idle")
    # and where there is truly no reader, the kernel says so: a write would raise SIGPIPE
    assert (pipes["lone"]["unseen"], pipes["lone"]["state"]) == ("", "no-reader")


def test_a_side_that_could_not_be_asked_is_not_said_to_be_missing():
    """The state's words when no end seen could be duplicated (Pipe.unseen "?"): a record as the scan makes it."""
    from ipctop.model import PipeEnd

    writer, reader = PipeEnd(7, "producer", 1, "w"), PipeEnd(8, "consumer", 0, "r")
    for ends, unseen, code in (((writer,), "?", "no-reader-seen"), ((reader,), "?", "no-writer-seen"),
                               ((writer,), "", "no-reader"), ((reader,), "", "no-writer"),
                               ((writer,), "r", "idle"), ((reader,), "w", "idle")):
        pipe = Pipe(inode=1, fill=0, capacity=65536, ends=ends, unseen=unseen)
        assert pipe_state(pipe).code == code, (ends, unseen)
