"""The POSIX leak rules judge by the live processes their evidence gives, where it gives them (the
screenshots' made-up machine), instead of this machine's /proc."""

from __future__ import annotations

from dataclasses import replace

from ipctop.cleanup import find_leaks
from ipctop.cleanup.posix_leaks import LiveProcess
from tests.support.fixture_evidence import FIXTURE_LEAK_FILTERS, fixture_evidence
from tests.support.fixture_world import PSM_LEAKED, T0, world_snapshot


def _verdict(snapshot, evidence):  # type: ignore[no-untyped-def]
    found = find_leaks(snapshot, FIXTURE_LEAK_FILTERS, evidence=evidence)
    return next(c for c in found if c.kind == "pshm" and c.id == PSM_LEAKED)


def test_a_crashed_jobs_file_is_removable_when_no_python_of_its_owner_predates_it():
    snapshot = world_snapshot(7)
    assert _verdict(snapshot, fixture_evidence(snapshot)).removable


def test_a_python_of_its_owner_older_than_the_file_keeps_it_though_this_machine_has_none():
    snapshot = world_snapshot(7)
    older = LiveProcess(4242, 1000, T0 - 30 * 86400, "python3")  # made up: alive only in the evidence
    evidence = fixture_evidence(snapshot)
    assert evidence.everyone is not None
    everyone = [*evidence.everyone(), older]
    verdict = _verdict(snapshot, replace(evidence, everyone=lambda: everyone))
    assert not verdict.removable and "python3[4242]" in verdict.reason, verdict.reason
