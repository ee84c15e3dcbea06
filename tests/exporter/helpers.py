"""Helpers for the exporter tests: the exporter and a Prometheus server as real processes, and reading metrics.

Every process started here is ended by pid in `stop()` (the fixtures call it
even when a test fails), and the Prometheus data directory is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ipctop.exporter.collector import IpcCollector
from tests.support.holders import wait_until

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
# Waits on conditions, never fixed sleeps: generous, for a 2-core machine shared with other test runs.
DEADLINE = 90.0

Sample = tuple[str, dict[str, str], float]


def exposition(collector: IpcCollector) -> str:
    """One scrape of `collector`, as the text Prometheus reads."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry).decode()


def parse(text: str) -> list[Sample]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


OWN_NAMESPACE = os.readlink("/proc/self/ns/ipc")  # "ipc:[INODE]", as the namespace label gives it
# a PromQL regular expression for this namespace's series, or for a series with no namespace label
OWN_NAMESPACE_PATTERN = "|" + OWN_NAMESPACE.replace("[", ".").replace("]", ".")


def own_namespace(samples: list[Sample]) -> list[Sample]:
    """The samples of this process's IPC namespace and those of no namespace: the totals of what a test
    made, whatever other namespaces on the machine hold (containers; another run of the suite in
    namespaces of its own)."""
    return [s for s in samples if s[1].get("namespace", OWN_NAMESPACE) == OWN_NAMESPACE]


def find(samples: list[Sample], name: str, **labels: str) -> list[Sample]:
    return [s for s in samples if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]


def value(samples: list[Sample], name: str, **labels: str) -> float | None:
    """The value of the one sample that has `name` and `labels`; None when there is none."""
    found = find(samples, name, **labels)
    assert len(found) <= 1, f"{name} {labels} matches {len(found)} series"
    return found[0][2] if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 30.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - localhost only
        return response.read()


class Exporter:
    """`ipctop exporter` in a child process, listening on a free port of 127.0.0.1, every object with its series
    (other runs on this machine may hold hundreds of objects larger or fuller than a test's)."""

    def __init__(self, *args: str, prefix: tuple[str, ...] = ()) -> None:
        """`prefix`: a command that runs the exporter (setpriv with other credentials)."""
        self.popen = subprocess.Popen(
            [*prefix, sys.executable, "-m", "ipctop", "exporter", "--listen", "127.0.0.1:0", "--max-series", "100000",
             "--leak-grace", "0s",
             *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )
        line = self.popen.stdout.readline()
        if "serving metrics on" not in line:
            self.stop()
            raise RuntimeError(f"the exporter did not start: {line!r} {self.popen.stderr.read()!r}")
        self.url = line.split()[-1]
        self.port = int(urllib.parse.urlsplit(self.url).port)

    def scrape(self) -> str:
        return http_get(self.url).decode()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=20)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream:
                stream.close()


class Prometheus:
    """A Prometheus server of our own: a temporary config and data directory, a free port, scraping every 1 s."""

    def __init__(self, workdir: Path, target_port: int) -> None:
        self.workdir = workdir
        self.data = workdir / "prometheus-data"
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: ipctop\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        )
        self.popen: subprocess.Popen | None = None
        for _ in range(5):  # the free port may be taken between our check and its bind
            self.port = free_port()
            self.log = open(workdir / "prometheus.log", "w")  # noqa: SIM115 - closed in stop()
            self.popen = subprocess.Popen(
                ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.data}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"Prometheus did not start: {(workdir / 'prometheus.log').read_text()[-2000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                if http_get(f"http://127.0.0.1:{self.port}/-/ready", timeout=5):
                    return True
            time.sleep(0.2)
        return False

    def query(self, expr: str) -> list[tuple[dict[str, str], float]]:
        """An instant query: (labels, value) of each series."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        answer = json.loads(http_get(url))
        assert answer["status"] == "success", answer
        return [(r["metric"], float(r["value"][1])) for r in answer["data"]["result"]]

    def wait_for(self, expr: str, predicate, timeout: float = DEADLINE):  # type: ignore[no-untyped-def]
        """Query `expr` until `predicate(results)` holds; return the results."""
        found: list = []

        def check() -> bool:
            found[:] = self.query(expr)
            return bool(predicate(found))

        try:
            wait_until(check, timeout=timeout, interval=0.25)
        except AssertionError:
            raise AssertionError(f"{expr}: still {found} after {timeout}s") from None
        return found

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, timeout=120)


def has_promtool() -> bool:
    return shutil.which("promtool") is not None


def has_prometheus() -> bool:
    return shutil.which("prometheus") is not None


def cleanup(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
