"""The timeline: an object's lifetime built from diff events, on made-up and on real snapshots."""

from __future__ import annotations

from ipctop.diff import Event, EventKind, diff
from ipctop.frozen import replace
from ipctop.timeline import FIRST_SEEN, Timeline
from tests.support.fixture_snapshot import fixture_snapshots


def event(kind: EventKind, object_kind: str = "shm", ident: int = 5, pid: int | None = None, t: float = 1.0) -> Event:
    return Event(t, kind, object_kind, ident, pid, f"{kind.value} detail")


def test_a_segment_life_in_order_and_the_process_side():
    timeline = Timeline()
    timeline.record(
        [
            event(EventKind.CREATED, pid=10, t=1),
            event(EventKind.ATTACHED, pid=11, t=2),
            event(EventKind.DETACHED, pid=11, t=3),
            event(EventKind.MARKED_FOR_REMOVAL, t=4),
            event(EventKind.REMOVED, t=5),
        ]
    )
    assert [e.what for e in timeline.lifetime("shm", 5)] == [
        "created",
        "attached",
        "detached",
        "marked for removal",
        "removed",
    ]
    assert [e.what for e in timeline.lifetime("process", 11)] == ["attached shm 5", "detached shm 5"]
    assert timeline.lifetime("shm", 6) == ()


def test_a_reused_id_starts_a_new_life():
    timeline = Timeline()
    timeline.record([event(EventKind.CREATED, t=1), event(EventKind.REMOVED, t=2), event(EventKind.CREATED, t=3)])
    assert [(e.time, e.what) for e in timeline.lifetime("shm", 5)] == [(3, "created")]


def test_bounded_keeping_how_it_began():
    timeline = Timeline(max_entries=3, max_objects=2)
    timeline.record([event(EventKind.CREATED, "msg", 1, t=0)])
    timeline.record([event(EventKind.QUEUE_GREW, "msg", 1, t=t) for t in range(1, 10)])
    assert [e.time for e in timeline.lifetime("msg", 1)] == [0, 8, 9]
    timeline.record([event(EventKind.CREATED, "sem", 2), event(EventKind.CREATED, "sem", 3)])
    assert timeline.lifetime("msg", 1) == ()  # the least recently active object went first
    assert timeline.lifetime("sem", 3)


def test_seeded_from_the_first_scan_then_fed_by_diffs():
    scans = fixture_snapshots()
    timeline = Timeline()
    timeline.seed(scans[0])
    for before, after in zip(scans, scans[1:], strict=False):
        timeline.record(diff(before, after))
    assert [e.what for e in timeline.lifetime("shm", 7)] == [FIRST_SEEN, "marked for removal"]
    assert [e.what for e in timeline.lifetime("shm", 11)] == [FIRST_SEEN, "removed"]
    assert [e.what for e in timeline.lifetime("shm", 12)] == ["created"]
    assert timeline.lifetime("process", 8500)[-1].what == "process exited"
    # Seeding again (a restart of watching) does not duplicate what is known.
    timeline.seed(replace(scans[-1]))
    assert [e.what for e in timeline.lifetime("shm", 12)] == ["created"]


def test_a_forgotten_history_is_known_to_be_forgotten():
    timeline = Timeline(max_entries=3, max_objects=2)
    timeline.record([event(EventKind.CREATED, "msg", 1, t=0)])
    assert not timeline.forgotten("msg", 1)
    timeline.record([event(EventKind.QUEUE_GREW, "msg", 1, t=t) for t in range(1, 10)])
    assert timeline.dropped("msg", 1) == 7  # of 10 entries the first and the latest two are kept
    timeline.record([event(EventKind.CREATED, "sem", 2), event(EventKind.CREATED, "sem", 3)])
    assert timeline.lifetime("msg", 1) == () and timeline.forgotten("msg", 1)
    assert not timeline.forgotten("msg", 99)  # never seen is not forgotten
    timeline.record([event(EventKind.QUEUE_DRAINED, "msg", 1, t=11)])  # active again: a partial history
    assert timeline.forgotten("msg", 1) and [e.time for e in timeline.lifetime("msg", 1)] == [11]
    timeline.record([event(EventKind.CREATED, "msg", 1, t=12)])  # a new queue under that id: a new life
    assert not timeline.forgotten("msg", 1) and timeline.dropped("msg", 1) == 0
