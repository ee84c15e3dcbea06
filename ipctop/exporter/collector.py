"""The prometheus_client collector: one scan per scrape, from a Scanner it owns.

Why per scrape and not a background scanner: a scan takes tens of milliseconds
on a busy machine (docs/exporter.md has the numbers), far inside any scrape
timeout, so the data can be as fresh as the scrape, and an exporter nobody
scrapes costs nothing.  Two scrapes closer than `min_interval` (two Prometheus
servers, a curl in a loop) share one scan; concurrent scrapes wait for the scan
under way and are then answered from it.

What is remembered between scrapes is the Scanner's memory (snapshot.py) and the
WaitClock's (waits.py); both belong to this object.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable

from prometheus_client.core import Metric as Family
from prometheus_client.registry import Collector

from ipctop.cleanup.filters import LeakFilters
from ipctop.collectors.procfs import ProcFS
from ipctop.exporter.build import CATALOG, SCAN_SUCCESS, SCANS, SCRAPE_DURATION, build
from ipctop.exporter.defaults import DEFAULT_MAX_SERIES
from ipctop.exporter.metric import Families
from ipctop.exporter.waits import WaitClock, schedstat_reader, waits_in
from ipctop.query import filter_snapshot, namespaces_named
from ipctop.snapshot import LIVE, Scanner


class IpcCollector(Collector):
    """Answers each scrape with the metrics of a fresh scan (or of one younger than `min_interval`)."""

    def __init__(self, *, max_series: int = DEFAULT_MAX_SERIES, min_interval: float = 0.0,
                 proc: ProcFS = LIVE, namespaces: str | None = None, leak_grace: float | None = None) -> None:
        self.max_series = max_series
        # how long an abandoned object must have been idle to count as leaked (None: clean's default)
        self.leak_filters = LeakFilters(grace=leak_grace)
        self.min_interval = min_interval
        self.namespaces = namespaces  # `--ns`: matched again at each scan (a restarted container is a new one)
        self._proc = proc
        self._scanner = Scanner(proc)
        self._clock = WaitClock(schedstat_reader(proc))
        self._lock = threading.Lock()
        self._scans = 0
        self._latest: tuple[float, list[Family]] | None = None

    def describe(self) -> Iterable[Family]:
        return ()  # nothing up front: describing would cost a scan at registration

    def collect(self) -> Iterable[Family]:
        with self._lock:
            if self._latest is not None and time.monotonic() - self._latest[0] < self.min_interval:
                return self._latest[1]
            started = time.monotonic()
            families = self._scan()
            families.add(SCRAPE_DURATION, (), time.monotonic() - started)
            answer = list(families)
            self._latest = (started, answer)
            return answer

    def _scan(self) -> Families:
        self._scans += 1
        try:
            snapshot = self._scanner.scan()
            if self.namespaces is not None:
                snapshot = filter_snapshot(snapshot, namespaces=namespaces_named(snapshot, self.namespaces))
            waits = self._clock.measure(waits_in(snapshot), snapshot.time)
            families = build(snapshot, waits, self.max_series, self.leak_filters)
            success = 1
        except Exception as error:  # noqa: BLE001 - a scrape must answer, and say that the scan failed
            print(f"ipctop exporter: the scan failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            families, success = Families(CATALOG), 0
        families.add(SCANS, (), self._scans)
        families.add(SCAN_SUCCESS, (), success)
        return families
