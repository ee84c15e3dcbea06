"""The namespace and container labels: absent on a machine with one IPC namespace, on every object's series
with more.  ipctop reads one namespace for now, so the second one here is a made-up record (an object of
the model that carries its namespace, as the model's objects will); nothing of the kernel is imitated."""

from __future__ import annotations

import dataclasses

from prometheus_client import CollectorRegistry, generate_latest

from ipctop.exporter.build import build
from ipctop.exporter.waits import Waits
from ipctop.model import ShmSegment
from tests.exporter.helpers import find, parse
from tests.support.fixture_snapshot import NS, fixture_snapshot


@dataclasses.dataclass(frozen=True, slots=True)
class SegmentInANamespace(ShmSegment):
    ipc_ns: str = ""
    container: str = ""


def samples_of(snapshot) -> list:  # type: ignore[no-untyped-def]
    families = list(build(snapshot, Waits()))

    class Fixed:
        def collect(self):  # type: ignore[no-untyped-def]
            return families

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())
    return parse(generate_latest(registry).decode())


def test_one_namespace_has_no_scope_labels():
    samples = samples_of(fixture_snapshot(0))
    assert find(samples, "ipctop_shm_size_bytes")
    assert not [s for s in samples if "namespace" in s[1] or "container" in s[1]]


def test_two_namespaces_label_every_object_and_split_the_totals():
    snapshot = fixture_snapshot(0)
    segment = next(iter(snapshot.shm.values()))
    fields = {f.name: getattr(segment, f.name) for f in dataclasses.fields(segment)}
    fields["shmid"] = 424242
    other = SegmentInANamespace(**fields, ipc_ns="ipc:[4026532999]", container="web")
    samples = samples_of(dataclasses.replace(snapshot, shm={**snapshot.shm, other.shmid: other}))
    [(_, labels, _)] = find(samples, "ipctop_shm_size_bytes", shmid="424242")
    assert (labels["namespace"], labels["container"]) == ("ipc:[4026532999]", "web")
    for _, labels, _ in find(samples, "ipctop_shm_size_bytes"):
        if labels["shmid"] != "424242":
            assert (labels["namespace"], labels["container"]) == (NS, "host")
    counts = {s[1]["container"]: s[2] for s in find(samples, "ipctop_objects", kind="shm")}
    assert counts == {"host": len(snapshot.shm), "web": 1}
    assert all("namespace" not in s[1] for s in find(samples, "ipctop_limit_objects"))
