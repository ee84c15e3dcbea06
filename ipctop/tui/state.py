"""What the monitor knows between scans, and the feed that produces each scan.

`SnapshotFeed.next()` runs off the UI thread: it takes a snapshot through the
provider (take_snapshot, or fixed snapshots in tests), diffs it against the
previous one and applies the --pid/--user/--ns filter to both the snapshot and
the events (--ns by name again at each scan: a restarted container is a new
namespace).  The diff is of the whole snapshots: diffing filtered ones would
report an object that merely dropped out of the filter (its only matching process
detached) as removed.  `MonitorState.apply()` runs on the UI thread and keeps the
latest snapshot, the event log, the queue depth history and the timeline.
Neither imports textual.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ipctop.diff import Event, EventKind, diff
from ipctop.history import QueueHistory
from ipctop.kinds import KINDS
from ipctop.model import Snapshot
from ipctop.query import filter_snapshot, namespaces_named
from ipctop.render.procinfo import label, name_of
from ipctop.timeline import Timeline

SnapshotProvider = Callable[[], Snapshot]


@dataclass(frozen=True, slots=True)
class Update:
    snapshot: Snapshot
    events: tuple[Event, ...]
    first: bool  # the first scan: nothing to diff against


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One line of the event log: an event, or the same change to one object by several processes
    in one scan, or the exits of several processes of one comm (`also`: the others, in the diff's
    order), told once."""

    seq: int  # increasing: the events pane sorts newest first by it
    event: Event
    who: str = ""  # its processes (`processes_named`), named while they could still be seen
    also: tuple[Event, ...] = ()

    @property
    def count(self) -> int:
        return 1 + len(self.also)

    @property
    def object_label(self) -> str:
        """The event's object; `4 processes` for the exits of four."""
        if self.also and self.event.kind is EventKind.PROCESS_EXITED:
            return f"{self.count} processes"
        return self.event.object_label

    @property
    def detail(self) -> str:
        """The event's detail; of a group, each different detail once (`; `-separated)."""
        details = dict.fromkeys(e.detail for e in (self.event, *self.also) if e.detail)
        return "; ".join(details)


# Changes that one process makes to an object: when a pool of workers starts or ends, each of them
# attaches, maps or closes the same objects in the same scan (an nginx reload: five workers and three
# zones, thirty lines), and the log tells each object's change once, with every process named; the
# workers' exits are one line too.
GROUPED_KINDS = frozenset({EventKind.ATTACHED, EventKind.DETACHED, EventKind.END_OPENED, EventKind.END_CLOSED,
                           EventKind.OPENED, EventKind.CLOSED, EventKind.MAPPED, EventKind.UNMAPPED})


def grouped(events: tuple[Event, ...]) -> list[list[Event]]:
    """The events of one scan, those of GROUPED_KINDS joined by change and object, and the exits of
    processes by what they were (their comm, zombie or not); each group where its first event was."""
    groups: list[list[Event]] = []
    by_change: dict[tuple[object, ...], list[Event]] = {}
    for event in events:
        if event.kind in GROUPED_KINDS:
            key: tuple[object, ...] = (event.kind, event.object_kind, event.object_id, event.ipc_ns)
        elif event.kind is EventKind.PROCESS_EXITED:
            key = (event.kind, event.detail)
        else:
            groups.append([event])
            continue
        group = by_change.get(key)
        if group is None:
            group = by_change[key] = []
            groups.append(group)
        group.append(event)
    return groups


def process_name(pid: int | None, *snapshots: Snapshot | None) -> str:
    """`name[pid]` (ipctop/render/procinfo.py) from the first snapshot that knows the process,
    `[pid]` if none does, '' for no pid."""
    if not pid:
        return ""
    for snapshot in snapshots:
        if snapshot is not None and pid in snapshot.known_processes:
            return label(pid, snapshot.known_processes)
    return f"[{pid}]"


def processes_named(pids: list[int | None], *snapshots: Snapshot | None) -> str:
    """Processes as `process_name` names them, those of one name together (`nginx: worker
    process[19035,19036,19037]`); where they have several names, by comm, which is shorter and
    still names every pid (`postgres[3012,3013,3014]` for a client backend and two parallel
    workers); '' for none."""
    unique = [pid for pid in dict.fromkeys(pids) if pid]
    by_name = _by_name(unique, snapshots, brief=False)
    if len(by_name) > 1:
        by_name = _by_name(unique, snapshots, brief=True)
    return ", ".join(f"{name}[{','.join(group)}]" for name, group in by_name.items())


def _by_name(pids: list[int], snapshots: tuple[Snapshot | None, ...], brief: bool) -> dict[str, list[str]]:
    """name -> pids (as text): the name from the first snapshot that knows the process, '' if none does."""
    by_name: dict[str, list[str]] = {}
    for pid in pids:
        process = next((s.known_processes[pid] for s in snapshots if s is not None and pid in s.known_processes),
                       None)
        name = "" if process is None else process.comm if brief else name_of(process)
        by_name.setdefault(name, []).append(str(pid))
    return by_name


class SnapshotFeed:
    """Snapshots with their events, one scan per call of `next()`; not for two threads at once."""

    def __init__(self, provider: SnapshotProvider, pids: frozenset[int] | None = None, uid: int | None = None,
                 namespaces: str | None = None):
        self.provider = provider
        self.pids = pids
        self.uid = uid
        self.namespaces = namespaces  # `--ns`, matched at each scan
        self._previous: Snapshot | None = None
        self._previous_shown: Snapshot | None = None

    @property
    def filtering(self) -> bool:
        return self.pids is not None or self.uid is not None or self.namespaces is not None

    def next(self) -> Update:
        full = self.provider()
        chosen = namespaces_named(full, self.namespaces) if self.namespaces is not None else None
        shown = filter_snapshot(full, pids=self.pids, uid=self.uid, namespaces=chosen) if self.filtering else full
        previous, self._previous = self._previous, full
        previous_shown, self._previous_shown = self._previous_shown, shown
        if previous is None or previous_shown is None:
            return Update(shown, (), True)
        events = diff(previous, full)
        if self.filtering:
            events = [e for e in events if _concerns(e, shown) or _concerns(e, previous_shown)]
        return Update(shown, tuple(events), False)


_TABLES = {"shm": "shm", "msg": "msg", "sem": "sem", "pipe": "pipes", "fifo": "fifos", "process": "processes",
           **{kind.name: kind.field for kind in KINDS}}


def _concerns(event: Event, snapshot: Snapshot) -> bool:
    """Whether the event's object is among those `snapshot` shows."""
    table = _TABLES.get(event.object_kind)
    if table is not None and event.ipc_ns:
        namespace = snapshot.namespace(event.ipc_ns)
        return namespace is not None and event.object_id in getattr(namespace, table)
    if table in ("shm", "msg", "sem") and snapshot.namespaces and not any(ns.own for ns in snapshot.namespaces):
        return False  # ipctop's own namespace is not shown
    return table is not None and event.object_id in getattr(snapshot, table)


class MonitorState:
    def __init__(self, max_events: int = 1000) -> None:
        self.snapshot: Snapshot | None = None
        self.previous: Snapshot | None = None  # the scan before: what has just vanished is in it
        self.events: deque[LoggedEvent] = deque(maxlen=max_events)
        self.history = QueueHistory()
        self.timeline = Timeline()
        self.scans = 0
        self._seq = 0

    def apply(self, update: Update) -> None:
        previous, self.snapshot = self.snapshot, update.snapshot
        self.previous = previous
        if update.first:
            self.timeline.seed(update.snapshot)
        self.timeline.record(update.events)
        self.history.record(update.snapshot)
        for first, *others in grouped(update.events):
            self._seq += 1
            # an exited process is named from the previous snapshot
            who = processes_named([e.pid for e in (first, *others)], update.snapshot, previous)
            self.events.append(LoggedEvent(self._seq, first, who, tuple(others)))
        self.scans += 1

    @property
    def now(self) -> float:
        """The time of the latest scan: ages are measured to it, so a paused screen does not drift."""
        return self.snapshot.time if self.snapshot else 0.0
