"""The process tree: parents before children, joined through the ancestors that hold nothing."""

from __future__ import annotations

from ipctop.model import Process
from ipctop.proctree import TreeLine, process_tree
from ipctop.snapshot import Scanner, take_snapshot
from tests.support.fixture_snapshot import fixture_snapshot
from tests.support.generations import three_generations


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


def test_ancestors_that_hold_nothing_join_a_process_to_its_listed_ancestor():
    # 10 listed; 20 (holds nothing) under it; 30 and 31 listed under 20; 40 listed under 21 (holds
    # nothing) under 1 (holds nothing), which 10 is under too
    processes = {p.pid: p for p in (proc(10, 1), proc(30, 20), proc(31, 20), proc(40, 21))}
    ancestors = {p.pid: p for p in (proc(20, 10), proc(21, 1), proc(1, 0))}
    lines = process_tree(processes, ancestors)
    assert [(line.prefix + str(line.pid), line.is_group) for line in lines] == [
        ("1", True),  # where 10's and 40's branches meet; nothing listed above it: a tree of its own
        ("└─ 10", False),
        ("   └─ 20", True),  # where 30's and 31's meet, under 10
        ("      ├─ 30", False),
        ("      └─ 31", False),
        ("40", False),  # nothing listed above it: a tree of its own, 21 (and 1) left out as before
    ]
    # meeting points under meeting points with nothing listed above (init, a login shell, a shell it ran):
    # each heads a tree of its own, so that the tree is no deeper than before
    shells = {p.pid: p for p in (proc(100, 1), proc(200, 100), proc(1, 0))}
    listed = {p.pid: p for p in (proc(101, 100), proc(201, 200), proc(202, 200), proc(2, 1))}
    assert [(line.prefix + str(line.pid), line.is_group) for line in process_tree(listed, shells)] == [
        ("1", True), ("└─ 2", False), ("100", True), ("└─ 101", False), ("200", True), ("├─ 201", False),
        ("└─ 202", False),
    ]
    # 40 alone under 21 under 1, nothing else there: no meeting point, so nothing above 40 is drawn
    assert [line.pid for line in process_tree({40: proc(40, 21)}, ancestors)] == [40]
    assert process_tree(processes) == [  # without ancestors: 30 and 31 under a group line of their own
        TreeLine(10, 0, ""), TreeLine(20, 0, "", is_group=True), TreeLine(30, 1, "├─ "), TreeLine(31, 1, "└─ "),
        TreeLine(40, 0, ""),
    ]


def test_the_monitors_scan_reads_the_ancestors_between_real_holders():
    with three_generations() as (top, middle, grandchild):
        scanner = Scanner(ancestry=True)
        snapshot = scanner.scan()
        assert {top, grandchild} <= snapshot.processes.keys() and middle not in snapshot.processes
        assert snapshot.ancestors[middle].ppid == top and snapshot.ancestors[middle].comm.startswith("python")
        lines = {line.pid: line for line in process_tree(snapshot.processes, snapshot.ancestors)}
        assert lines[middle].is_group and lines[middle].depth == lines[top].depth + 1
        assert lines[grandchild].depth == lines[middle].depth + 1 and not lines[grandchild].is_group
        again = scanner.scan().ancestors[middle]  # again, from what the scanner remembers: the very record
        assert again is snapshot.ancestors[middle] and again.ppid == top
        assert middle not in take_snapshot().ancestors  # a one-off look reads no ancestors
