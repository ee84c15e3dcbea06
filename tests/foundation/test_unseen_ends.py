"""A pipe end held by a process ipctop cannot see: the kernel is asked before "no reader" or "no writer"
is said.  Real pipes between a root parent and an unprivileged child that scans."""

from __future__ import annotations

import os

from ipctop.model import Pipe
from ipctop.pipelines import pipe_state
from ipctop.snapshot import take_snapshot
from tests.support.unprivileged import run_as_nobody

CAP_DAC_READ_SEARCH = 2


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


def test_a_process_whose_fd_links_cannot_be_read_is_not_taken_for_one_that_holds_nothing(tmp_path):
    """CAP_DAC_READ_SEARCH lets a monitoring agent list root's /proc/PID/fd but not read its links (that
    takes the right to ptrace): such a process is one not inspected, so a FIFO reader that opened with
    O_NONBLOCK before any writer (poll() cannot say whether a writer came) is `no writer seen`, not EOF."""
    fifo = tmp_path / "unseen.fifo"
    os.mkfifo(fifo, 0o666)
    os.chmod(tmp_path, 0o755)
    writer_r, writer_w = os.pipe()  # root (this process) holds a pipe too: its links are what cannot be read
    try:
        def look() -> dict:
            reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                snapshot = take_snapshot()
            finally:
                os.close(reader)
            [found] = [f for f in snapshot.fifos.values() if f.path == str(fifo)]
            return {"unseen": found.unseen, "state": pipe_state(found).code,
                    "root_uninspected": any(u.pid == os.getppid() for u in snapshot.uninspectable)}

        seen = run_as_nobody(look, capabilities=(CAP_DAC_READ_SEARCH,))
    finally:
        os.close(writer_r)
        os.close(writer_w)
        fifo.unlink()
    assert seen == {"unseen": "?", "state": "no-writer-seen", "root_uninspected": True}
