"""`ipctop exporter` scraped by a real Prometheus server, queried through its HTTP API."""

from __future__ import annotations

import json

import pytest

from ipctop.kernel import sysv
from tests.cleanup.helpers import create_segment_and_exit
from tests.exporter.helpers import DEPLOY, OWN_NAMESPACE_PATTERN, has_promtool, promtool


@pytest.mark.timeout(600)  # conditions with generous deadlines, on a machine that may be loaded
def test_prometheus_scrapes_the_objects_the_test_made(ipc_key, holders, start_exporter, start_prometheus):
    shmid = sysv.shmget(ipc_key(), 8192, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    leaked, _creator = create_segment_and_exit(ipc_key(), size=4096)
    removed: set[int] = set()
    try:
        attachers = [holders.spawn("shm-attach", shmid), holders.spawn("shm-attach", shmid)]
        for text in (b"a", b"b", b"c"):
            sysv.msgsnd(msqid, 1, text)
        exporter = start_exporter("--interval", "0")
        prometheus = start_prometheus(exporter.port)
        prometheus.wait_for('up{job="ipctop"}', lambda r: r and r[0][1] == 1)

        def reads(expr: str, expected: float):  # type: ignore[no-untyped-def]
            return prometheus.wait_for(expr, lambda r: len(r) == 1 and r[0][1] == expected)

        reads(f'ipctop_shm_attached_processes{{shmid="{shmid}"}}', 2)
        reads(f'ipctop_msgq_messages{{msqid="{msqid}"}}', 3)
        reads(f'count(ipctop_leaked_object_idle_seconds{{kind="shm", id="{leaked}"}})', 1)
        # this namespace's count (the series has no namespace label where the machine has one namespace)
        prometheus.wait_for(f'ipctop_leaked_objects{{kind="shm", namespace=~"{OWN_NAMESPACE_PATTERN}"}}',
                            lambda r: r and r[0][1] >= 1)

        # IPC_RMID: the queue and the leaked segment go at once, their series with them
        for remove, ident in ((sysv.msg_remove, msqid), (sysv.shm_remove, leaked)):
            remove(ident)
            removed.add(ident)
        prometheus.wait_for(f'ipctop_msgq_messages{{msqid="{msqid}"}}', lambda r: r == [])
        prometheus.wait_for(f'ipctop_leaked_object_idle_seconds{{id="{leaked}"}}', lambda r: r == [])
        # a segment still attached lives on, marked, until its last process detaches
        sysv.shm_remove(shmid)
        removed.add(shmid)
        reads(f'ipctop_shm_marked_for_removal{{shmid="{shmid}"}}', 1)
        for attacher in attachers:
            holders.end(attacher)
        prometheus.wait_for(f'ipctop_shm_size_bytes{{shmid="{shmid}"}}', lambda r: r == [])
    finally:
        for remove, ident in ((sysv.shm_remove, shmid), (sysv.msg_remove, msqid), (sysv.shm_remove, leaked)):
            if ident not in removed:
                remove(ident)


@pytest.mark.skipif(not has_promtool(), reason="promtool is not installed (apt-get install prometheus)")
def test_the_served_metrics_pass_promtool_check_metrics(start_exporter):
    exporter = start_exporter()
    text = exporter.scrape()
    assert "ipctop_scrape_duration_seconds" in text and "process_cpu_seconds_total" in text
    checked = promtool("check", "metrics", stdin=text)  # every kind of object: test_metrics.py
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.timeout(600)
def test_the_dashboards_and_rules_queries_run_on_real_data(start_exporter, start_prometheus):
    dashboard = json.loads((DEPLOY / "grafana" / "ipctop-dashboard.json").read_text())
    exprs = [t["expr"].replace("$instance", ".*") for p in dashboard["panels"] for t in p.get("targets", ())]
    rules = yaml_exprs((DEPLOY / "prometheus" / "ipctop-alerts.yml").read_text())
    assert len(rules) == 6
    exporter = start_exporter("--interval", "0")
    prometheus = start_prometheus(exporter.port)
    prometheus.wait_for('ipctop_objects{kind="shm"}', lambda r: len(r) >= 1)  # one series an IPC namespace
    for expr in exprs + rules:
        prometheus.query(expr)  # asserts that Prometheus accepted it
    assert prometheus.query('sum(ipctop_limit_objects{instance=~".*"})')[0][1] > 0


def yaml_exprs(text: str) -> list[str]:
    """The `expr:` of each rule (one line, or a `|` block), without a YAML parser."""
    exprs: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("expr:"):
            continue
        rest = stripped.removeprefix("expr:").strip()
        if rest != "|":
            exprs.append(rest)
            continue
        indent = len(line) - len(line.lstrip()) + 2
        block = []
        for following in lines[i + 1:]:
            if following.strip() and len(following) - len(following.lstrip()) < indent:
                break
            block.append(following.strip())
        exprs.append(" ".join(b for b in block if b))
    return exprs
