"""What one kind of object tells the exporter: the hooks every kind module fills.

A kind says which objects of a snapshot are its own, the labels that name one
of them, which of them get series of their own and in which order (the most
worth watching first, since `--max-series` may cut the list), the per-object
samples, the bytes it holds, and the system limits it counts against.
Everything else (totals, the cut, leaks, scope labels) is done once for all
kinds in build.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from ipctop.exporter.metric import Metric
from ipctop.exporter.waits import Waits
from ipctop.model import Snapshot


@dataclass(frozen=True, slots=True)
class Sample:
    """A value of a per-object metric; `labels` are those the metric has beyond the object's identity."""

    metric: Metric
    value: float
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LimitUse:
    """A system-wide limit and how much of it is used: `unit` is "objects" or "bytes"."""

    resource: str
    unit: str
    limit: float
    used: float


class ObjectKind:
    """Base of the kind modules; subclasses set the class attributes and override the methods."""

    name: ClassVar[str]  # the value of the `kind` label: shm, msg, sem, pipe, fifo
    identity: ClassVar[tuple[str, ...]]  # the labels that name one object
    metrics: ClassVar[tuple[Metric, ...]]  # its per-object metrics
    leaks: ClassVar[bool] = False  # whether the leak finder judges this kind

    def objects(self, snapshot: Snapshot) -> Iterable[Any]:
        raise NotImplementedError

    def labels(self, obj: Any) -> tuple[str, ...]:
        """The values of `identity` for `obj`."""
        raise NotImplementedError

    def listed(self, obj: Any) -> bool:
        """Whether `obj` may have series of its own at all (pipes: only when bytes wait in them)."""
        return True

    def rank(self, obj: Any, waits: Waits) -> tuple:
        """Sort key, larger first: the objects that come first keep their series under --max-series."""
        raise NotImplementedError

    def samples(self, obj: Any, waits: Waits) -> Iterable[Sample]:
        raise NotImplementedError

    def complete(self, obj: Any) -> bool:
        """False when the scan could not read all of `obj` (it then says which part is missing)."""
        return True

    def held_bytes(self, obj: Any) -> int | None:
        """Bytes the object holds (for ipctop_object_bytes), None when it holds none to speak of."""
        return None

    def find(self, snapshot: Snapshot, ident: int, ipc_ns: int = 0) -> Any | None:
        """The object with this id (for the leak metrics), in the IPC namespace `ipc_ns` (0: ipctop's own)."""
        return None

    def limit_uses(self, snapshot: Snapshot) -> Iterable[LimitUse]:
        return ()
