"""The calls of a demo's processes print in the order they happened, as strace prints them: a read
after the write whose bytes it got, a blocked call pending (`<unfinished ...>`) when it starts and
completed (`<... resumed>`) when it returns, and a process killed inside a call says so.

Before, each process told a call once it had returned, so the reader's `read` could come before
the `write` it returned (fifo-nonblock), and a blocked writer's `write = 1` before the read that
woke it (pipe-full, two runs of three).
"""

from __future__ import annotations

import re

import pytest

from ipctop.demos.runner import CallLines
from tests.demos.helpers import run_demo

LINE = re.compile(r"^  (\S+) (\d+): (.*)$")
DATA = re.compile(r'= \d+ ("(?:[^"\\]|\\.)*")$')  # what a read returned: `= 6 "apple\n"`
WRITTEN = re.compile(r'^write\(\d+, "((?:[^"\\]|\\.)*)", ')  # what a write wrote: `write(1, "apple\n", 6)`


def check_order(lines: list[str]) -> None:
    """Every read's bytes were written before (the start of that write is printed earlier), and every
    call printed as resumed was printed pending before, by the same process."""
    pending: dict[str, str] = {}  # pid -> the call it is in, printed unfinished
    written = ""  # what the writes started so far wrote, one after the other
    for number, line in enumerate(lines):
        match = LINE.match(line)
        if not match:
            continue
        _role, pid, text = match.groups()
        if text.endswith(" <unfinished ...>"):
            pending[pid] = text.split("(", 1)[0]
        if text.startswith("<... "):
            name = text[len("<... ") : text.index(" resumed>")]
            assert pending.pop(pid, None) == name, f"line {number}: {line!r} was never printed pending"
        if text.startswith("write(") and (literal := WRITTEN.search(text)):
            written += literal.group(1)
        if (text.startswith("read(") or text.startswith("<... read resumed>")) and (data := DATA.search(text)):
            assert data.group(1)[1:-1] in written, f"line {number}: {line!r} before the write of its bytes"


@pytest.mark.parametrize("name", ["pipe", "pipe-full", "pipe-eof", "pipeline", "fifo", "fifo-nonblock", "msgq",
                                  "msgq-full", "sigpipe", "sem-race"])  # fmt: skip
def test_every_demo_prints_its_calls_in_the_order_they_happened(name):
    check_order(run_demo(name).lines)


def test_a_blocked_receiver_is_pending_until_the_send_that_wakes_it():
    lines = run_demo("msgq").lines
    receive = next(i for i, line in enumerate(lines) if re.search(r"msgrcv\(\d+, &msg, 64, 4, 0 <unfinished", line))
    send = next(i for i, line in enumerate(lines) if re.search(r"msgsnd\(\d+, \{mtype=4, ", line))
    woken = next(i for i, line in enumerate(lines) if '<... msgrcv resumed>) = 4; msg = {mtype=4, "four"}' in line)
    assert receive < send < woken


def test_a_process_killed_inside_a_call_says_so_before_it_is_reaped():
    lines = run_demo("sigpipe").lines
    pending = re.compile(r'write\(\d+, "anyone there\?\\n", 14 <unfinished')
    write = next(i for i, line in enumerate(lines) if pending.search(line))
    killed = next(i for i, line in enumerate(lines) if line.endswith("+++ killed by SIGPIPE +++"))
    reaped = next(i for i, line in enumerate(lines) if "WTERMSIG = 13 (SIGPIPE)" in line)
    assert lines[killed - 1].endswith("<... write resumed>) = ?")
    assert write < killed < reaped


def test_call_lines_are_joined_or_split_as_strace_does():
    said: list[str] = []
    lines = CallLines(said.append)
    lines.call(1, "a", "write(1, \"x\", 1)")
    lines.returned(1, "1")  # nothing between: one line
    lines.call(2, "b", "read(0, buf, 64)")
    lines.call(1, "a", "write(1, \"y\", 1)")  # b's read is pending when a speaks
    lines.returned(2, '1 "y"')
    lines.returned(1, "1")
    lines.line("  # a note")
    assert said == [
        '  a 1: write(1, "x", 1) = 1',
        "  b 2: read(0, buf, 64 <unfinished ...>",
        '  a 1: write(1, "y", 1 <unfinished ...>',
        '  b 2: <... read resumed>) = 1 "y"',
        "  a 1: <... write resumed>) = 1",
        "  # a note",
    ]
