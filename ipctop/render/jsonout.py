"""The snapshot as JSON with typed values (numbers stay numbers); field names are
the dataclass fields, documented in the README for scripts."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

from ipctop.model import IpcNamespace, ShmSegment, Snapshot


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


def _namespace(ns: IpcNamespace) -> dict[str, Any]:
    """A namespace without its objects (they are in shm, msg and sem, each with its ipc_ns) nor its
    members (the host's are most processes): how many of each there are."""
    return {
        "inode": ns.inode, "name": ns.name, "kind": ns.kind, "container_id": ns.container_id, "cgroup": ns.cgroup,
        "leader": ns.leader, "processes": len(ns.members), "own": ns.own,
        "objects": {"shm": len(ns.shm), "msg": len(ns.msg), "sem": len(ns.sem)},
        "limits": _plain(ns.limits), "error": ns.error,
    }


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "time": snapshot.time,
        "ipc_ns": snapshot.ipc_ns,
        "namespaces": [_namespace(ns) for ns in snapshot.namespaces],
        "namespace_note": snapshot.namespace_note,
        # every IPC namespace's objects; an id is unique only together with its ipc_ns
        "shm": [_segment(v) for v in snapshot.all_shm()],
        "msg": [_plain(v) for v in snapshot.all_msg()],
        "sem": [_plain(v) for v in snapshot.all_sem()],
        "pipes": [_plain(v) for v in snapshot.pipes.values()],
        "fifos": [_plain(v) for v in snapshot.fifos.values()],
        "pshm": [_plain(v) for v in snapshot.pshm.values()],
        "psem": [_plain(v) for v in snapshot.psem.values()],
        "pmsg": [_plain(v) for v in snapshot.pmsg.values()],
        "memfd": [_plain(v) for v in snapshot.memfd.values()],
        "processes": [_plain(v) for v in snapshot.processes.values()],
        "limits": _plain(snapshot.limits),
        "uninspectable_pids": list(snapshot.uninspectable_pids),
        "uninspectable": [_plain(u) for u in snapshot.uninspectable],
        "unread_waits": list(snapshot.unread_waits),
        "posix_notes": list(snapshot.posix_notes),
    }


def snapshot_to_json(snapshot: Snapshot, indent: int | None = 2) -> str:
    return json.dumps(snapshot_to_dict(snapshot), indent=indent)
