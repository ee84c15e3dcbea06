"""The process tree: parents before children, siblings grouped under a parent outside the snapshot."""

from __future__ import annotations

from ipctop.model import Process
from ipctop.proctree import process_tree
from tests.support.fixture_snapshot import fixture_snapshot


def proc(pid: int, ppid: int) -> Process:
    return Process(pid, ppid, f"p{pid}", "", 0, "root", "S", "", 0.0, "")


def test_nesting_prefixes_and_groups():
    processes = {p.pid: p for p in (proc(10, 1), proc(11, 10), proc(12, 10), proc(13, 11), proc(20, 99))}
    lines = process_tree(processes)
    assert [(line.prefix + str(line.pid), line.is_group) for line in lines] == [
        ("10", False),
        ("├─ 11", False),
        ("│  └─ 13", False),
        ("└─ 12", False),
        ("20", False),
    ]


def test_siblings_of_an_unseen_parent_hang_under_a_group_line():
    lines = process_tree(fixture_snapshot(0).processes)
    shell = next(i for i, line in enumerate(lines) if line.is_group and line.pid == 2100)
    assert [(line.pid, line.depth) for line in lines[shell + 1 : shell + 4]] == [(2101, 1), (2102, 1), (2103, 1)]
    assert lines[shell + 3].prefix == "└─ "
    assert {line.pid for line in lines if not line.is_group} == set(fixture_snapshot(0).processes)
