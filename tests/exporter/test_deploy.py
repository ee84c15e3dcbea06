"""What ships beside the exporter: alerting rules, their unit tests, the Grafana dashboard, the systemd unit."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from ipctop.exporter.build import CATALOG
from ipctop.kernel import sysv
from tests.exporter.helpers import DEPLOY, REPO, find, has_promtool, parse, promtool
from tests.support.holders import wait_until
from tests.support.unprivileged import NOBODY

RULES = DEPLOY / "prometheus" / "ipctop-alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "ipctop-alerts.test.yml"
DASHBOARD = DEPLOY / "grafana" / "ipctop-dashboard.json"
UNIT = DEPLOY / "systemd" / "ipctop-exporter.service"
EXPORTED = {metric.name for metric in CATALOG}
needs_promtool = pytest.mark.skipif(not has_promtool(), reason="promtool is not installed (apt-get install prometheus)")


def metric_names(text: str) -> set[str]:
    return set(re.findall(r"\bipctop_[a-z_]+\b", text))


@needs_promtool
def test_promtool_checks_the_alerting_rules():
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


@needs_promtool
def test_promtool_unit_tests_of_the_alerting_rules_pass():
    checked = promtool("test", "rules", str(RULE_TESTS))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_rules_and_their_tests_use_only_metrics_the_exporter_exports():
    for path in (RULES, RULE_TESTS):
        used = metric_names(path.read_text())
        assert used and used <= EXPORTED, f"{path.name}: {sorted(used - EXPORTED)}"


def test_the_dashboard_queries_only_exported_metrics_through_its_datasource_variable():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", ())]
    assert len(exprs) >= 10
    used = metric_names(" ".join(exprs))
    assert used <= EXPORTED, sorted(used - EXPORTED)
    assert {"ipctop_objects", "ipctop_leaked_objects", "ipctop_msgq_bytes", "ipctop_sem_waiters",
            "ipctop_pipe_writer_blocked_seconds", "ipctop_limit_used_objects"} <= used
    for panel in dashboard["panels"]:
        if panel.get("targets"):
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert all('instance=~"$instance"' in t["expr"] for t in panel["targets"]), panel["title"]


def test_every_exported_metric_is_documented():
    documented = metric_names((REPO / "docs" / "exporter.md").read_text())
    assert documented >= EXPORTED, sorted(EXPORTED - documented)


def unit_capabilities() -> list[str]:
    for line in UNIT.read_text().splitlines():
        if line.startswith("AmbientCapabilities="):
            return line.split("=", 1)[1].split()
    raise AssertionError("the unit names no AmbientCapabilities")


def as_nobody_with(capabilities: list[str]) -> tuple[str, ...]:
    caps = ",".join("+" + cap.removeprefix("CAP_").lower() for cap in capabilities)
    return ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", f"--inh-caps={caps}",
            f"--ambient-caps={caps}")


def ours(text: str, ids: dict[str, str]) -> list:
    """The samples about our objects, without the ones that are times."""
    return sorted(
        (name, sorted(labels.items()), value) for name, labels, value in parse(text)
        if any(labels.get(label) == ident for label, ident in ids.items()) and not name.endswith("_seconds")
    )


@pytest.mark.unprivileged
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is not installed")
def test_the_units_capabilities_see_what_root_sees(ipc_key, holders, start_exporter):
    shmid = sysv.shmget(ipc_key(), 8192, sysv.IPC_CREAT | 0o600)
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    semid = sysv.semget(ipc_key(), 1, sysv.IPC_CREAT | 0o600)
    read_fd, write_fd = os.pipe()
    try:
        holders.spawn("shm-attach", shmid)
        sysv.msgsnd(msqid, 1, b"for root only")
        holders.spawn("sem-wait", semid, 0, -1)
        os.write(write_fd, b"root's bytes")
        holders.spawn("hold", pass_fds=(read_fd, write_fd))
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1)
        ids = {"shmid": str(shmid), "msqid": str(msqid), "semid": str(semid), "inode": str(os.fstat(read_fd).st_ino)}
        os.close(read_fd)
        os.close(write_fd)
        read_fd = write_fd = -1
        capabilities = unit_capabilities()
        assert capabilities == ["CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_IPC_OWNER"]
        # the host's namespace (the unit cannot enter others: it would need CAP_SYS_ADMIN)
        as_root = ours(start_exporter("--interval", "0", "--ns", "host").scrape(), ids)
        as_unit = ours(start_exporter("--interval", "0", "--ns", "host", prefix=as_nobody_with(capabilities)).scrape(),
                       ids)
        assert {name for name, _, _ in as_root} >= {"ipctop_shm_attached_processes", "ipctop_msgq_capacity_bytes",
                                                   "ipctop_sem_waiters", "ipctop_pipe_waiting_bytes"}
        assert as_unit == as_root
        # and each of them counts
        without_ptrace = parse(start_exporter(prefix=as_nobody_with(capabilities[1:])).scrape())
        assert find(without_ptrace, "ipctop_pipe_waiting_bytes", inode=ids["inode"]) == []
        without_ipc_owner = parse(start_exporter(prefix=as_nobody_with(capabilities[:2])).scrape())
        assert find(without_ipc_owner, "ipctop_msgq_capacity_bytes", msqid=ids["msqid"]) == []
    finally:
        for fd in (read_fd, write_fd):
            if fd >= 0:
                os.close(fd)
        for remove, ident in ((sysv.shm_remove, shmid), (sysv.msg_remove, msqid), (sysv.sem_remove, semid)):
            remove(ident)
