"""The snapshot as JSON with typed values (numbers stay numbers); field names are
the dataclass fields, documented in the README for scripts."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

from ipctop.model import ShmSegment, Snapshot


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    return value


def _segment(segment: ShmSegment) -> dict[str, Any]:
    plain = _plain(segment)
    plain["attachments_found"] = segment.attachments_found  # of nattch; all of it when attachers_complete
    return plain


def object_to_dict(obj: Any) -> Any:
    """One object of a snapshot (a segment, a pipe, a process…) as `snapshot_to_dict` gives it."""
    return _segment(obj) if isinstance(obj, ShmSegment) else _plain(obj)


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "time": snapshot.time,
        "ipc_ns": snapshot.ipc_ns,
        "shm": [_segment(v) for v in snapshot.shm.values()],
        "msg": [_plain(v) for v in snapshot.msg.values()],
        "sem": [_plain(v) for v in snapshot.sem.values()],
        "pipes": [_plain(v) for v in snapshot.pipes.values()],
        "fifos": [_plain(v) for v in snapshot.fifos.values()],
        "processes": [_plain(v) for v in snapshot.processes.values()],
        "limits": _plain(snapshot.limits),
        "uninspectable_pids": list(snapshot.uninspectable_pids),
        "uninspectable": [_plain(u) for u in snapshot.uninspectable],
    }


def snapshot_to_json(snapshot: Snapshot, indent: int | None = 2) -> str:
    return json.dumps(snapshot_to_dict(snapshot), indent=indent)
