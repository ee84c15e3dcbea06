"""The detail screen's table of an object's users keeps what matters at every width: each pid
whole, each process named with its pid, and how it uses the object (wrapped, never cut)."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from ipctop.tui.users_table import UserRow, UsersTable

# as PostgreSQL's backends name themselves (their process title), with a wait in their state
ROWS = [
    UserRow("2131845", "postgres[2131845]", "postgres", "S", "attached rw at 0x7effcd020000-0x7effcd021000"),
    UserRow("2139801", "postgres: postgres bench [local] UPDATE waiting[2139801]", "postgres",
            "S epoll_wait on pipe 5791819 (fd 3 in via epoll fd 9)", "attached rw at 0x7effcd020000-0x7effcd021000"),
    UserRow("2131845", "postgres[2131845]", "postgres", "S", "created it"),
]


def rendered(width: int) -> list[str]:
    console = Console(width=width, color_system=None, record=True)
    with console.capture() as capture:
        console.print(UsersTable(ROWS))
    return capture.get().splitlines()


@pytest.mark.parametrize("width", [60, 76, 96, 116, 196])
def test_every_pid_and_how_stays_whole_and_each_line_fits(width):
    lines = rendered(width)
    assert all(len(line.rstrip()) <= width for line in lines), lines
    assert lines[0].split()[:2] == ["PID", "Process"] and lines[0].split()[-1] == "How"
    text = " ".join(line.strip() for line in lines)
    flat = re.sub(r"\s+", " ", text)
    for row in ROWS:
        assert row.pid in lines[0] or any(line.startswith(row.pid + " ") for line in lines), (row.pid, lines)
        # a process cut in its name keeps its pid
        assert f"[{row.pid}]" in flat
    # the address range is wrapped as a word, not cut
    assert flat.count("0x7effcd020000-0x7effcd021000") == 2, lines
    assert flat.count("created it") == 1


def test_the_user_then_the_state_give_way_on_a_narrow_screen():
    assert "User" in rendered(96)[0] and "State" in rendered(96)[0]
    assert "User" not in rendered(76)[0] and "State" in rendered(76)[0]
    assert "User" not in rendered(60)[0] and "State" not in rendered(60)[0]
    wide = rendered(196)
    assert "postgres: postgres bench [local] UPDATE waiting[2139801]" in wide[2]
    assert "S epoll_wait on pipe 5791819 (fd 3 in via epoll fd 9)" in wide[2]
