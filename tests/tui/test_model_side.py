"""The monitor's parts that need no terminal: feed, state, details, action registry."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ipctop.diff import EventKind
from ipctop.tui import registry
from ipctop.tui.details import describe, kind_of
from ipctop.tui.registry import ActionSpec, is_available
from ipctop.tui.state import MonitorState, SnapshotFeed
from tests.support.fixture_snapshot import FixtureFeed, fixture_snapshot

HEADLESS = ["ipctop.history", "ipctop.timeline", "ipctop.pipelines", "ipctop.proctree", "ipctop.render.bars",
            "ipctop.tui.state", "ipctop.tui.details"]  # fmt: skip


def test_helpers_import_no_ui_toolkit():
    code = "\n".join(f"import {m}" for m in HEADLESS)
    code += "\nimport sys\nprint(','.join(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_feed_diffs_and_filters():
    feed = SnapshotFeed(FixtureFeed())
    first = feed.next()
    assert first.first and first.events == ()
    second = feed.next()
    assert not second.first and [e.kind for e in second.events] == [EventKind.QUEUE_GREW]
    only_postgres = SnapshotFeed(FixtureFeed(), pids=frozenset({3002}))
    update = only_postgres.next()
    assert set(update.snapshot.shm) == {3} and set(update.snapshot.processes) == {3002}
    assert set(SnapshotFeed(FixtureFeed(), uid=999).next().snapshot.shm) == {3}


def test_state_names_an_exited_process_from_the_scan_before():
    feed, state = SnapshotFeed(FixtureFeed()), MonitorState()
    for _ in range(8):
        state.apply(feed.next())
    assert state.scans == 8
    exited = next(e for e in state.events if e.event.kind is EventKind.PROCESS_EXITED)
    assert exited.who == "oneshot[8500]"
    assert [e.seq for e in state.events] == sorted(e.seq for e in state.events)
    assert state.history.depths(1, 0x4950D100)[-1] == 12
    assert state.now == fixture_snapshot(7).time


def test_details_of_every_kind():
    snapshot = fixture_snapshot(7)
    segment = describe("shm", 7, snapshot, None)
    fields = dict(segment.fields)
    assert fields["status"] == "dest" and "0x4950d001" in fields["original key"]
    assert fields["creator (cpid)"] == "3099 (gone)"
    assert (3100, "attached rw at 0x7f0070000000-0x7f0070001000") in segment.users
    assert "Marked for removal" in " ".join(segment.notes)
    queue = dict(describe("msg", 1, snapshot, None).fields)
    assert queue["fill"] == "75%" and queue["last sender (lspid)"] == "mq-client[5002]"
    sem = describe("sem", 2, snapshot, None)
    assert dict(sem.fields)["#1"].startswith("value 0, waiting for increase 2")
    assert "blocked in semop" in " ".join(sem.notes)
    chain = dict(describe("pipe", 50001, snapshot, None).fields)
    assert chain["pipeline"] == "sleep[2101] | sleep[2102] | sleep[2103]"
    assert dict(describe("fifo", 70001, snapshot, None).fields)["path"] == "/tmp/ipctop-demo.fifo"
    process = describe("process", 2102, snapshot, None)
    assert process.users == [(2101, "holds pipe 50001 for writing (fd 1)"),
                             (2103, "holds pipe 50002 for reading (fd 0)")]
    gone = describe("shm", 11, snapshot, fixture_snapshot(0).shm[11])
    assert gone.notes[0].startswith("Gone") and dict(gone.fields)["shmid"] == "11"
    assert describe("shm", 11, snapshot, None).notes == ["It is gone; only its lifetime is left."]
    assert kind_of(snapshot.fifos[70001]) == ("fifo", 70001)


def _noop(ctx) -> None:  # type: ignore[no-untyped-def]
    return None


def test_registry_refuses_clashes_and_builds_bindings():
    specs = registry.all_actions()
    assert len({s.id for s in specs}) == len(specs)
    registry._check_unique([ActionSpec("a.x", "x", "", _noop, panes=frozenset({"shm"})),
                            ActionSpec("b.x", "x", "", _noop, panes=frozenset({"msg"}))])  # fmt: skip
    with pytest.raises(ValueError, match="key 'x'"):
        registry._check_unique([ActionSpec("a.x", "x", "", _noop), ActionSpec("b.x", "x", "", _noop)])
    with pytest.raises(ValueError, match="registered twice"):
        registry._check_unique([ActionSpec("a.x", "x", "", _noop), ActionSpec("a.x", "y", "", _noop)])
    bindings = {b.key: b for b in registry.bindings()}
    assert bindings["slash"].priority and bindings["slash"].action == "do('view.filter')"
    assert bindings["f1"].action == bindings["question_mark"].action and not bindings["f1"].show


def test_availability():
    mutating = ActionSpec("shm.remove", "x", "Remove", _noop, panes=frozenset({"shm"}), mutates=True,
                          needs_selection=True)  # fmt: skip
    assert is_available(mutating, "shm", True, readonly=False) is True
    assert is_available(mutating, "shm", False, readonly=False) is None  # shown, disabled
    assert is_available(mutating, "msg", True, readonly=False) is False
    assert is_available(mutating, "shm", True, readonly=True) is False
