"""The snapshot as JSON with typed values (numbers stay numbers); field names are
the record's fields, documented in the README for scripts.

The document is laid out one object to a line (each segment, pipe, process… on a
line of its own, inside the lists of its kind): readable, easy to grep, and written
by json's C encoder (an indented dump goes through its pure-Python one, ten times
slower: most of `ipctop list --json`'s time on a busy machine).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from ipctop.frozen import fields
from ipctop.model import IpcNamespace, ShmSegment, Snapshot

_SCALARS = frozenset({int, str, float, bool, type(None)})


def _plain(value: Any) -> Any:
    kind = value.__class__
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return [v if v.__class__ in _SCALARS else _plain(v) for v in value]
    if hasattr(kind, "__record_fields__"):  # its fields as the JSON has them (_builder), made plain
        return {name: v if v.__class__ in _SCALARS else _plain(v) for name, v in _builder(kind)(value).items()}
    return value


def object_to_dict(obj: Any) -> Any:
    """One object of a snapshot (a segment, a pipe, a process…) as `snapshot_to_dict` gives it."""
    return _plain(obj)


def _namespace(ns: IpcNamespace) -> dict[str, Any]:
    """A namespace without its objects (they are in shm, msg and sem, each with its ipc_ns) nor its
    members (the host's are most processes): how many of each there are."""
    return {
        "inode": ns.inode, "name": ns.name, "kind": ns.kind, "container_id": ns.container_id, "cgroup": ns.cgroup,
        "leader": ns.leader, "processes": len(ns.members), "own": ns.own,
        "objects": {"shm": len(ns.shm), "msg": len(ns.msg), "sem": len(ns.sem)},
        "limits": _plain(ns.limits), "error": ns.error,
    }


def _document(snapshot: Snapshot, plain: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "time": snapshot.time,
        "ipc_ns": snapshot.ipc_ns,
        "namespaces": [_namespace(ns) for ns in snapshot.namespaces],
        "namespace_note": snapshot.namespace_note,
        "hidden_note": snapshot.hidden_note,
        # every IPC namespace's objects; an id is unique only together with its ipc_ns
        "shm": [plain(v) for v in snapshot.all_shm()],
        "msg": [plain(v) for v in snapshot.all_msg()],
        "sem": [plain(v) for v in snapshot.all_sem()],
        "pipes": [plain(v) for v in snapshot.pipes.values()],
        "fifos": [plain(v) for v in snapshot.fifos.values()],
        "pshm": [plain(v) for v in snapshot.pshm.values()],
        "psem": [plain(v) for v in snapshot.psem.values()],
        "pmsg": [plain(v) for v in snapshot.pmsg.values()],
        "memfd": [plain(v) for v in snapshot.memfd.values()],
        "processes": [plain(v) for v in snapshot.processes.values()],
        "limits": plain(snapshot.limits),
        "uninspectable_pids": list(snapshot.uninspectable_pids),
        "uninspectable": [plain(u) for u in snapshot.uninspectable],
        "unread_waits": list(snapshot.unread_waits),
        "posix_notes": list(snapshot.posix_notes),
    }


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    return _document(snapshot, _plain)


def _fields_of(value: Any) -> dict[str, Any]:
    """json's `default`: a record as the dict of its fields, its values left to the encoder (which
    calls back here for the records inside)."""
    return _builder(value.__class__)(value)


@cache
def _builder(kind: type) -> Callable[[Any], dict[str, Any]]:
    """A function making a record's dict in one display (`{"pid": v.pid, ...}`): compiled once a class,
    it takes a quarter off the JSON of a busy machine (8,800 records), where zipping the fields' names
    with their values cost a microsecond a record."""
    if not hasattr(kind, "__record_fields__"):
        raise TypeError(f"{kind.__name__} is not JSON serializable")
    items = [f"{name!r}: v.{name}" for name in fields(kind)]
    if kind is ShmSegment:
        items.append("'attachments_found': v.attachments_found")  # of nattch; all of it when attachers_complete
    scope: dict[str, Any] = {}
    exec(f"def build(v):\n    return {{{', '.join(items)}}}\n", scope)
    return scope["build"]  # type: ignore[no-any-return]


def _as_is(value: Any) -> Any:
    return value


def snapshot_to_json(snapshot: Snapshot, indent: int | None = 2) -> str:
    """The snapshot as JSON: on one line with `indent=None`, else each top-level field on a line of its
    own and each object of a list on a line of its own (indented by `indent`).  The same document as
    `snapshot_to_dict`, but its objects are handed to json's C encoder as they are: it walks their
    tuples and numbers itself and calls `_fields_of` for each record (building the plain dicts in
    Python first took as long as encoding them)."""
    document = _document(snapshot, _as_is)
    # no check for cycles (an eighth of the encoding): records are immutable values, made bottom-up
    dumps = json.JSONEncoder(default=_fields_of, check_circular=False).encode
    if indent is None:
        return dumps(document)
    outer, inner = " " * indent, " " * 2 * indent
    fields = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            objects = f",\n{inner}".join(map(dumps, value))
            fields.append(f"{outer}{json.dumps(key)}: [\n{inner}{objects}\n{outer}]")
        else:
            fields.append(f"{outer}{json.dumps(key)}: {dumps(value)}")
    return "{\n" + ",\n".join(fields) + "\n}"
