"""The namespace and container labels: absent on a machine with one IPC namespace (here, a fixture
snapshot), on every object's series with more (tests/namespaces/test_exporter.py, on real namespaces)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from ipctop.exporter.build import build
from ipctop.exporter.waits import Waits
from tests.exporter.helpers import find, parse
from tests.support.fixture_snapshot import fixture_snapshot


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
