"""Where the metrics go: an HTTP endpoint for Prometheus, or a .prom file for node_exporter's textfile collector."""

from __future__ import annotations

import os
import signal
import threading

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server, write_to_textfile

from ipctop.exporter.collector import IpcCollector
from ipctop.exporter.defaults import DEFAULT_PORT


def parse_listen(text: str) -> tuple[str, int]:
    """`:9868`, `9868`, `127.0.0.1:9868` or `[::1]:9868` -> (host, port); an empty host is every address."""
    text = text.strip()
    if text.startswith("["):
        host, found, port = text[1:].partition("]:")
        if not found:
            port = ""
    elif ":" in text:
        host, _, port = text.rpartition(":")
    else:
        host, port = "", text
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r} is not an address and port: write PORT, :PORT, HOST:PORT or [IPV6]:PORT, "
                         f"like :{DEFAULT_PORT}")
    return host or "0.0.0.0", int(port)


def check_textfile(path: str) -> None:
    """Raise ValueError (one sentence) unless `path` can be written as a .prom file."""
    if not path.endswith(".prom"):
        raise ValueError(f"{path!r} does not end in .prom, and node_exporter's textfile collector reads only "
                         "such files")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"the directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"the directory {directory} is not writable by this user")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory")


def write_textfile(collector: IpcCollector, path: str) -> None:
    """Scan once and write the metrics to `path` atomically: a temporary file beside it, then rename(2)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    write_to_textfile(path, registry)


def serve(collector: IpcCollector, host: str, port: int) -> None:
    """Serve /metrics until SIGTERM, SIGINT or SIGHUP.  Raises OSError when the address cannot be bound."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    ProcessCollector(registry=registry)  # the exporter's own CPU and memory, as every client library exports
    server, thread = start_http_server(port, addr=host, registry=registry)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    shown = f"[{host}]" if ":" in host else host
    print(f"ipctop exporter: serving metrics on http://{shown}:{server.server_port}/metrics", flush=True)
    try:
        while not stop.wait(3600):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
