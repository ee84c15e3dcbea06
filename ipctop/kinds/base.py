"""What every kind module fills in (an `ObjectKind`), and the helpers they share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ipctop.frozen import Factory, frozen
from ipctop.model import Holder, Snapshot
from ipctop.render.formatting import clock, human_bytes, proc_label, rwx


@frozen
class Column:
    """A column of `ipctop list` (and of the monitor's pane): header, cell text, alignment."""

    key: str
    header: str
    text: Callable[[Any], str]
    numeric: bool = False
    sort: Callable[[Any], Any] | None = None  # the value to sort by, when not the text
    width: int | None = None  # a fixed width in the monitor (None: as wide as its cells)
    priority: int = 0  # 0: always shown; a narrow terminal leaves out the highest numbers first
    shrink_to: int | None = None  # a text column may be cut down to this width; None: never cut


@frozen
class DetailText:
    """The detail screen's text of one object: its fields, the processes and how they use it, notes."""

    title: str
    fields: list[tuple[str, str]]
    users: list[tuple[int, str]]
    notes: list[str] = Factory(list)  # type: ignore[assignment]


@frozen
class Metric:
    """One gauge per object for an exporter: name (without prefix), help, and the value of an object."""

    name: str
    help: str
    value: Callable[[Any], float | None]


@frozen
class ObjectKind:
    name: str  # --type and event name: "pshm"
    field: str  # the Snapshot attribute holding them, by inode
    record: type
    title: str  # `ipctop list` section: "POSIX shared memory"
    noun: str  # in sentences: "shared memory object"
    columns: tuple[Column, ...]
    label: Callable[[Any], str]  # the object in a sentence: "/name" or "memfd:name"
    describe: Callable[[Any, Snapshot], DetailText]
    owner_uid: Callable[[Any], int | None] = lambda obj: obj.uid
    level: Callable[[Any], int | None] | None = None  # a count whose rise and fall are events (messages)
    value: Callable[[Any], int | None] | None = None  # a value whose change is an event (a semaphore's)
    # when it was made, where that is known and never changes: the same inode made again is another object
    born: Callable[[Any], float] | None = None
    metrics: tuple[Metric, ...] = ()
    help: str = ""  # one sentence: what the kind is, for --help and the monitor
    # the object's kind in the event log where one kind holds two (a memfd or "anon" memory): None, the name
    word: Callable[[Any], str] | None = None

    def objects(self, snapshot: Snapshot) -> Any:
        return getattr(snapshot, self.field)

    def sorted(self, snapshot: Snapshot) -> list[Any]:
        return sorted(self.objects(snapshot).values(), key=lambda obj: (self.label(obj), obj.inode))

    @staticmethod
    def pids(obj: Any) -> set[int]:
        return {h.pid for h in obj.holders}

    def same_object(self, before: Any, after: Any) -> bool:
        """Whether two records of one inode are of one object (a birth time both know tells them apart)."""
        if self.born is None:
            return True
        was, now = self.born(before), self.born(after)
        return not (was and now and was != now)


# --- cells shared by the kinds -------------------------------------------------------


def holders_text(holders: Sequence[Holder], limit: int | None = None) -> str:
    """`postgres[5407],postgres[5408]`: each holding process once, in pid order."""
    seen: dict[int, str] = {}
    for h in holders:
        seen.setdefault(h.pid, proc_label(h.comm, h.pid))
    names = list(seen.values())
    if limit is not None and len(names) > limit:
        return ",".join(names[:limit]) + f",+{len(names) - limit}"
    return ",".join(names) or "-"


def holding_counts(holders: Sequence[Holder]) -> str:
    """`2 fds, 3 maps` (how many fds and mappings hold it)."""
    fds = sum(1 for h in holders if h.fd is not None)
    maps = len(holders) - fds
    parts = []
    if fds:
        parts.append(f"{fds} fd" + ("s" if fds > 1 else ""))
    if maps:
        parts.append(f"{maps} map" + ("s" if maps > 1 else ""))
    return ", ".join(parts) or "none"


def perms_text(perms: int | None) -> str:
    return rwx(perms) if perms is not None else "?"


def bytes_text(value: int | None) -> str:
    return human_bytes(value) if value is not None else "-"


def exact_bytes(value: int | None) -> str:
    return "-" if value is None else f"{human_bytes(value)} ({value} bytes)"


def when(seconds: float) -> str:
    return clock(int(seconds)) if seconds else "-"


def owner_field(uid: int | None, gid: int | None, owner: str) -> tuple[str, str]:
    if uid is None or uid < 0:
        return ("owner", "unknown")
    return ("owner", f"{owner} (uid {uid}, gid {gid})")


def holder_users(holders: Sequence[Holder]) -> list[tuple[int, str]]:
    """The detail's (pid, how) rows: one per fd or mapping."""
    return [(h.pid, _how(h)) for h in holders]


_OPEN_FOR = {"r": "reading", "w": "writing", "rw": "reading and writing"}


def _how(h: Holder) -> str:
    if h.fd is not None:
        return f"fd {h.fd} open for {_OPEN_FOR[h.mode]}"
    access = "read-write" if h.mode == "rw" else "read-only"
    return f"maps it {access} at {h.start:#x}-{h.end:#x} ({human_bytes(h.end - h.start)})"


def status_text(unlinked: bool) -> str:
    return "unlinked" if unlinked else "-"


def memory_columns() -> tuple[Column, Column]:
    """SIZE and USED, as every kind of shared memory shows them."""
    return (
        Column("size", "SIZE", lambda o: bytes_text(o.size), numeric=True, sort=lambda o: o.size, width=6),
        Column("used", "USED", lambda o: bytes_text(o.allocated), numeric=True, sort=lambda o: o.allocated or 0,
               width=6, priority=1),
    )


def holders_column() -> Column:
    return Column("holders", "HELD BY", lambda o: holders_text(o.holders), sort=lambda o: len(o.holders), shrink_to=16)


def memory_metrics() -> tuple[Metric, ...]:
    """The exporter's gauges of a shared memory object with a size, used memory and holders."""
    return (
        Metric("size_bytes", "Size of the object", lambda o: o.size),
        Metric("used_bytes", "Memory (or swap) it takes", lambda o: o.allocated),
        Metric("holders", "Open fds and mappings on it", lambda o: len(o.holders)),
    )
