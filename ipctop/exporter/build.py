"""One snapshot -> the metric families of one scrape, for every kind alike.

Per kind: how many objects and how many bytes (always all of them), then series
of its own for each object, the most worth watching first (each kind's `rank`),
at most `max_series` objects per kind.  The objects past the cut are not summed
into a made-up `other` object: they are in the per-kind totals, and
`ipctop_objects_without_series` says how many they are.  (An `other` series would
read as one more object to every per-object query and alert: the summed fill of
9,800 queues is not a queue that is full.)
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterable
from typing import Any

from ipctop.cleanup.filters import LeakFilters
from ipctop.exporter import leaks, limits
from ipctop.exporter.defaults import DEFAULT_MAX_SERIES
from ipctop.exporter.kinds import KINDS, ObjectKind
from ipctop.exporter.metric import Families, Metric
from ipctop.exporter.waits import CALLS, Waits
from ipctop.model import Snapshot
from ipctop.render.formatting import hex_key

_KIND = ("kind",)
OBJECTS = Metric("ipctop_objects", "IPC objects of each kind (all of them, whatever --max-series).", _KIND,
                 scoped=True)
OBJECT_BYTES = Metric("ipctop_object_bytes", "Bytes the objects of each kind hold: segment sizes, bytes of "
                      "queued messages, bytes waiting in pipes and FIFOs.", _KIND, scoped=True)
WITHOUT_SERIES = Metric("ipctop_objects_without_series", "Objects of each kind that have no per-object series "
                        "because of --max-series (they are in ipctop_objects and ipctop_object_bytes).", _KIND,
                        scoped=True)
INCOMPLETE = Metric("ipctop_incomplete_objects", "Objects the scan could not read in full: segments whose "
                    "attachers found do not add up to nattch, pipes and FIFOs whose bytes could not be measured.",
                    _KIND, scoped=True)
UNINSPECTABLE = Metric("ipctop_uninspectable_processes", "Processes whose fds or maps ipctop may not read: what "
                       "they hold is missing from the other metrics.")
HIDDEN = Metric("ipctop_proc_hides", "1 when /proc hides this from the exporter: `processes`, other users' "
                "(hidepid, for an exporter without root or CAP_SYS_PTRACE: what they hold is missing and cannot be "
                "counted); `sysv_tables`, /proc/sysvipc (subset=pid: System V objects are missing).", ("what",))
BLOCKED = Metric("ipctop_blocked_processes", "Processes asleep in an IPC call, by kind of wait (semop: the "
                 "kernel's count; the others: read from each thread's system call, see the docs).", ("wait",))
BLOCKED_LONGEST = Metric("ipctop_blocked_longest_seconds", "How long the longest-blocked process of each kind of "
                         "wait has been asleep without running (a lower bound, exact to one scrape interval).",
                         ("wait",))
SCRAPE_DURATION = Metric("ipctop_scrape_duration_seconds", "Seconds the scan and the metrics of this scrape took.")
SCANS = Metric("ipctop_scans_total", "Scans made since the exporter started.", type="counter")
SCAN_SUCCESS = Metric("ipctop_scan_success", "1 when the latest scan succeeded; 0 when it failed (then only these "
                      "health metrics are exported).")

HEALTH = (SCRAPE_DURATION, SCANS, SCAN_SUCCESS)
CATALOG: tuple[Metric, ...] = (
    *HEALTH, OBJECTS, OBJECT_BYTES, WITHOUT_SERIES, INCOMPLETE, UNINSPECTABLE, HIDDEN,
    *(metric for kind in KINDS for metric in kind.metrics),
    *leaks.METRICS, *limits.METRICS, BLOCKED, BLOCKED_LONGEST,
)

Scope = tuple[str, str]


@functools.cache
def _carries_scope(cls: type) -> bool:
    return hasattr(cls, "ipc_ns") or hasattr(cls, "container")


def scope_of(obj: Any, snapshot: Snapshot) -> Scope:
    """(namespace, container) of an object; objects that do not carry one are in the snapshot's own.
    The namespace reads as /proc/PID/ns/ipc does (`ipc:[4026531839]`); System V objects carry its inode."""
    if not _carries_scope(type(obj)):
        return snapshot.ipc_ns, "host"
    namespace = getattr(obj, "ipc_ns", "") or snapshot.ipc_ns
    if isinstance(namespace, int):
        namespace = f"ipc:[{namespace}]"
    container = getattr(obj, "container", "") or ("host" if namespace == snapshot.ipc_ns else "")
    return namespace, container


def _is_scoped(snapshot: Snapshot) -> bool:
    home = (snapshot.ipc_ns, "host")
    return any(
        _carries_scope(type(obj)) and scope_of(obj, snapshot) != home
        for kind in KINDS for obj in kind.objects(snapshot)
    )


def build(
    snapshot: Snapshot,
    waits: Waits,
    max_series: int = DEFAULT_MAX_SERIES,
    leak_filters: LeakFilters | None = None,
) -> Families:
    """The families of one scrape (the health metrics are the caller's to add)."""
    families = Families(CATALOG, scoped=_is_scoped(snapshot))
    for kind in KINDS:
        _export_kind(families, kind, snapshot, waits, max_series)
    _export_leaks(families, snapshot, max_series, leak_filters)
    _export_limits(families, snapshot)
    families.add(UNINSPECTABLE, (), len(snapshot.uninspectable))
    families.add(HIDDEN, ("processes",), int(snapshot.processes_hidden))
    families.add(HIDDEN, ("sysv_tables",), int(snapshot.tables_hidden))
    for call in CALLS:
        families.add(BLOCKED, (call,), _blocked_count(snapshot, waits, call))
        families.add(BLOCKED_LONGEST, (call,), waits.longest(call))
    return families


def _blocked_count(snapshot: Snapshot, waits: Waits, call: str) -> int:
    if call == "semop":
        # The kernel counts every thread blocked in semop (semncnt + semzcnt: each on the one
        # semaphore it blocks on); also those whose system call ipctop may not read.
        return sum(sum(s.ncnt) + sum(s.zcnt) for s in snapshot.all_sem())
    return waits.count(call)


PER_NAMESPACE = frozenset({"shm", "msg", "sem"})  # the kinds each IPC namespace has its own of


def _per_scope(counts: dict[Scope, float], families: Families, metric: Metric, label: str,
               default_scope: Scope) -> None:
    for scope, value in (counts or {default_scope: 0}).items():
        families.add(metric, (label,), value, scope)


def _export_kind(families: Families, kind: ObjectKind, snapshot: Snapshot, waits: Waits, max_series: int) -> None:
    home = (snapshot.ipc_ns, "host")
    scoped = families.scoped
    # every namespace has a count of each kind, 0 included: a query of one container's objects finds a series
    count: dict[Scope, float] = {home: 0}
    if scoped and kind.name in PER_NAMESPACE:
        count.update({(f"ipc:[{ns.inode}]", "host" if ns.own else ns.name): 0 for ns in snapshot.namespaces
                      if not ns.error})
    held: dict[Scope, float] = {}
    unlisted: dict[Scope, float] = {}
    incomplete: dict[Scope, float] = {}
    listed = []
    for obj in kind.objects(snapshot):
        scope = scope_of(obj, snapshot) if scoped else home
        count[scope] = count.get(scope, 0) + 1
        size = kind.held_bytes(obj)
        if size is not None:
            held[scope] = held.get(scope, 0) + size
        if not kind.complete(obj):
            incomplete[scope] = incomplete.get(scope, 0) + 1
        if kind.listed(obj):
            listed.append(obj)
    shown = heapq.nlargest(max_series, listed, key=lambda obj: kind.rank(obj, waits))
    if len(shown) < len(listed):
        kept = set(map(id, shown))
        for obj in listed:
            if id(obj) not in kept:
                scope = scope_of(obj, snapshot) if scoped else home
                unlisted[scope] = unlisted.get(scope, 0) + 1
    _per_scope(count, families, OBJECTS, kind.name, home)
    if held or type(kind).held_bytes is not ObjectKind.held_bytes:
        _per_scope(held, families, OBJECT_BYTES, kind.name, home)
    _per_scope(unlisted, families, WITHOUT_SERIES, kind.name, home)
    _per_scope(incomplete, families, INCOMPLETE, kind.name, home)
    for obj in shown:
        identity, scope = kind.labels(obj), scope_of(obj, snapshot) if scoped else home
        for sample in kind.samples(obj, waits):
            families.add(sample.metric, identity + sample.labels, sample.value, scope)


def _kind_named(name: str) -> ObjectKind | None:
    return next((kind for kind in KINDS if kind.name == name), None)


def _export_leaks(families: Families, snapshot: Snapshot, max_series: int, leak_filters: LeakFilters | None) -> None:
    found = leaks.leaked(snapshot, leak_filters)
    count: dict[tuple[str, Scope], float] = {}
    held: dict[tuple[str, Scope], float] = {}
    home = (snapshot.ipc_ns, "host")
    for kind in KINDS:
        if kind.leaks:
            count[kind.name, home] = held[kind.name, home] = 0
    per_object = []
    for candidate in found:
        kind = _kind_named(candidate.kind)
        obj = kind.find(snapshot, candidate.id, candidate.ipc_ns) if kind is not None else None
        scope = scope_of(obj, snapshot) if obj is not None else home
        count[candidate.kind, scope] = count.get((candidate.kind, scope), 0) + 1
        size = (kind.held_bytes(obj) if kind is not None and obj is not None else None) or 0
        held[candidate.kind, scope] = held.get((candidate.kind, scope), 0) + size
        per_object.append((candidate, scope))
    for (name, scope), value in count.items():
        families.add(leaks.LEAKED_OBJECTS, (name,), value, scope)
        families.add(leaks.LEAKED_BYTES, (name,), held[name, scope], scope)
    for candidate, scope in _first_per_kind(per_object, max_series):
        idle = max(0.0, snapshot.time - candidate.last_touched)
        key = candidate.name or hex_key(candidate.key)  # a POSIX object is known by its name
        labels = (candidate.kind, str(candidate.id), key, candidate.owner)
        families.add(leaks.LEAKED_IDLE, labels, idle, scope)


def _first_per_kind(items: Iterable[tuple[Any, Scope]], limit: int) -> list[tuple[Any, Scope]]:
    """The first `limit` items of each kind, in the order given."""
    taken: dict[str, int] = {}
    out = []
    for candidate, scope in items:
        if taken.get(candidate.kind, 0) < limit:
            taken[candidate.kind] = taken.get(candidate.kind, 0) + 1
            out.append((candidate, scope))
    return out


def _export_limits(families: Families, snapshot: Snapshot) -> None:
    for kind in KINDS:
        for use in kind.limit_uses(snapshot):
            limit_metric, used_metric = limits.PAIRS[use.unit]
            families.add(limit_metric, (use.resource,), use.limit)
            families.add(used_metric, (use.resource,), use.used)
