"""Fixtures of the exporter tests: exporters and Prometheus servers that are stopped even when a test fails."""

from __future__ import annotations

import pytest

from tests.exporter.helpers import Exporter, Prometheus, has_prometheus


@pytest.fixture
def start_exporter():
    """start_exporter(*args) -> a running `ipctop exporter --listen 127.0.0.1:0 ARGS`."""
    started: list[Exporter] = []

    def start(*args: str, prefix: tuple[str, ...] = ()) -> Exporter:
        exporter = Exporter(*args, prefix=prefix)
        started.append(exporter)
        return exporter

    yield start
    for exporter in started:
        exporter.stop()


@pytest.fixture
def start_prometheus(tmp_path):
    """start_prometheus(port) -> a Prometheus server scraping 127.0.0.1:PORT every second."""
    if not has_prometheus():
        pytest.skip("prometheus is not installed (apt-get install prometheus; .ci/run installs it)")
    started: list[Prometheus] = []

    def start(port: int) -> Prometheus:
        server = Prometheus(tmp_path, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
