"""The kinds of object that are described by one small module each (POSIX and unnamed shared memory).

An `ObjectKind` says how its objects are modelled and shown: the Snapshot field that
holds them, its columns in `ipctop list`, the fields of its detail, how to name one
in a sentence, who holds it, what a change of it means as an event, and its metrics.
`list`, `--type`, the JSON, the diff, the detail, the monitor's panes and the
exporter iterate over `KINDS` instead of naming each kind; collecting them is
ipctop/posix_records.py, acting on them ipctop/actions/posix.py, judging them as
leaks ipctop/cleanup/posix_leaks.py.  Adding a kind is a module here, a record in
model.py, and its collector.

No textual here: the CLI imports it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ipctop.kinds.base import Column, DetailText, Metric, ObjectKind
from ipctop.kinds.memfd import KIND as MEMFD
from ipctop.kinds.pmsg import KIND as PMSG
from ipctop.kinds.psem import KIND as PSEM
from ipctop.kinds.pshm import KIND as PSHM
from ipctop.model import Snapshot

KINDS: tuple[ObjectKind, ...] = (PSHM, PSEM, PMSG, MEMFD)
BY_NAME: Mapping[str, ObjectKind] = {kind.name: kind for kind in KINDS}
NAMES = tuple(BY_NAME)

__all__ = ["BY_NAME", "KINDS", "NAMES", "Column", "DetailText", "Metric", "ObjectKind", "kind_of_record", "objects"]


def kind_of_record(obj: object) -> ObjectKind | None:
    """The kind of a record (PosixShm, …), or None for another object."""
    for kind in KINDS:
        if type(obj) is kind.record:
            return kind
    return None


def objects(snapshot: Snapshot, kind: ObjectKind) -> Mapping[int, object]:
    return getattr(snapshot, kind.field)
