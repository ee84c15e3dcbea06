"""The snapshot as JSON with typed values (numbers stay numbers); field names are
the dataclass fields, documented in the README for scripts."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ipctop.model import Snapshot


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "time": snapshot.time,
        "ipc_ns": snapshot.ipc_ns,
        "shm": [_plain(v) for v in snapshot.shm.values()],
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
