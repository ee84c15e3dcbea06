"""`ipctop exporter`: the IPC metrics for Prometheus, served over HTTP or written once to a .prom file."""

from __future__ import annotations

import argparse
import os
import sys

from ipctop.cli.common import CliError, UsageError
from ipctop.exporter.defaults import DEFAULT_INTERVAL, DEFAULT_MAX_SERIES, DEFAULT_PORT


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "exporter", parents=[common], help="export IPC metrics for Prometheus",
        description="Serve this machine's IPC objects as Prometheus metrics (a scan per scrape), or write them "
        "once to a .prom file for node_exporter's textfile collector. Reads only: changes nothing.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--listen", default=None, metavar="ADDR:PORT",
                       help=f"where to serve /metrics (default :{DEFAULT_PORT}, every address; port 0 picks a "
                       "free one and prints it)")
    where.add_argument("--textfile", default=None, metavar="PATH",
                       help="write the metrics to PATH (ending in .prom) atomically and exit, e.g. from cron")
    parser.add_argument("--interval", default=None, metavar="SECONDS",
                        help=f"scan at most once per SECONDS: a scrape that comes sooner is answered from the "
                        f"latest scan (default {DEFAULT_INTERVAL:g}; 0 scans at every scrape)")
    parser.add_argument("--max-series", default=str(DEFAULT_MAX_SERIES), metavar="N",
                        help="at most N objects of each kind get series of their own, the largest and fullest "
                        f"first; the rest are counted in the per-kind totals (default {DEFAULT_MAX_SERIES})")
    parser.add_argument("--leak-grace", default=None, metavar="DURATION",
                        help="how long an abandoned object must have been idle before it counts as leaked "
                        "(90s, 10m, 2h, 3d; default: ipctop clean's, 10m)")
    parser.set_defaults(func=run)


def _interval(text: str | None, textfile: bool) -> float:
    if text is None:
        return DEFAULT_INTERVAL
    if textfile:
        raise UsageError("--interval applies to --listen: --textfile scans once and exits (run it from cron "
                         "or a timer)")
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--interval: {text!r} is not a number of seconds") from None
    if not 0 <= value <= 3600:
        raise UsageError(f"--interval: {text!r} is outside 0..3600 seconds")
    return value


def _max_series(text: str) -> int:
    if not text.strip().isdigit() or not 0 <= int(text) <= 100_000:
        raise UsageError(f"--max-series: {text!r} is not a whole number from 0 to 100000")
    return int(text)


def check_namespaces(text: str) -> None:
    """Each name of NS,... must name an IPC namespace now (it is matched again at every scan, by name,
    so a container that restarts in a new namespace stays exported)."""
    from ipctop.actions.in_namespace import check_names
    from ipctop.actions.validators import ValidationError

    try:
        check_names(text)
    except ValidationError as error:
        raise UsageError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    interval = _interval(args.interval, args.textfile is not None)
    max_series = _max_series(args.max_series)
    leak_grace = None
    if args.leak_grace is not None:
        from ipctop.cleanup.filters import parse_duration

        try:
            leak_grace = parse_duration(args.leak_grace)
        except ValueError as error:
            raise UsageError(f"--leak-grace: {error}") from None
    if args.ns is not None:
        check_namespaces(args.ns)
    from ipctop.exporter import serve

    if args.textfile is not None:
        try:
            serve.check_textfile(args.textfile)
        except ValueError as error:
            raise UsageError(f"--textfile: {error}") from None
    try:
        host, port = serve.parse_listen(args.listen if args.listen is not None else f":{DEFAULT_PORT}")
    except ValueError as error:
        raise UsageError(f"--listen: {error}") from None

    from ipctop.exporter.collector import IpcCollector

    collector = IpcCollector(max_series=max_series, min_interval=interval, namespaces=args.ns,
                             leak_grace=leak_grace)
    if args.textfile is not None:
        try:
            serve.write_textfile(collector, args.textfile)
        except OSError as error:
            raise CliError(f"could not write {args.textfile}: {error.strerror or error}") from None
        return 0
    if os.geteuid() != 0:
        print("ipctop exporter: not running as root: what other users' processes hold is missing "
              "(counted in ipctop_uninspectable_processes)", file=sys.stderr, flush=True)
    try:
        serve.serve(collector, host, port)
    except OSError as error:
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return 0
