"""The exporter's benchmark: scrape time and CPU at a 15 s scrape interval, beside node_exporter.

`python -m benchmarks.exporter [--world default|large|both] [--cpu-seconds 120]`

For each world (benchmarks/spec.py): `ipctop exporter` (a scan at every scrape)
and, if installed, `prometheus-node-exporter` (its default collectors) listen on
free ports of 127.0.0.1.  Both are scraped as Prometheus would, every 15 s for
`--cpu-seconds`, and the CPU each process used over that time is read from
/proc/PID/stat; then both are scraped back to back for more samples of the
scrape time.  Needs root (to read every process); node_exporter is
`apt-get install prometheus-node-exporter` (a missing one skips its column).
Results go to benchmarks/results/exporter-*.json and .txt (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from benchmarks.measure import ipctop_command, machine, median
from benchmarks.run import RESULTS, describe
from benchmarks.spec import WORLDS
from benchmarks.tmux import cpu_seconds, peak_rss_mb
from benchmarks.world import World, WorldError, interrupts_as_keyboard_interrupt

SCRAPE_INTERVAL = 15.0
# node_exporter 1.5.0's default fs-types-exclude, plus fuse: a FUSE server that does not answer
# (a test of another program's, say) hangs statfs, and with it node_exporter's scrape and its exit.
NODE_FS_TYPES_EXCLUDE = ("^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
                         "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
                         "sysfs|tracefs|fuse|fuse\\..*)$")
TYPICAL_SCRAPE_TIMEOUT = 10.0  # Prometheus's default scrape_timeout
NODE_EXPORTER = "prometheus-node-exporter"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Target:
    name: str
    argv: list[str]
    port: int
    popen: subprocess.Popen | None = None
    scrapes: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def start(self) -> float:
        """Start it and wait until it answers; return the time of that first (cold) scrape."""
        self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                return self.scrape()[0]
            except OSError:
                if self.popen.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start") from None
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within 60 s")

    def scrape(self) -> tuple[float, bytes]:
        started = time.perf_counter()
        with urllib.request.urlopen(self.url, timeout=120) as response:  # noqa: S310 - localhost
            body = response.read()
        return time.perf_counter() - started, body

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                try:
                    self.popen.wait(timeout=30)
                except subprocess.TimeoutExpired:  # asleep in the kernel where even SIGKILL waits
                    print(f"{self.name} (pid {self.popen.pid}) is killed but has not exited yet", file=sys.stderr)


def server_side_seconds(body: bytes) -> float:
    for line in body.decode().splitlines():
        if line.startswith("ipctop_scrape_duration_seconds "):
            return float(line.split()[1])
    return float("nan")


def measure_world(cpu_window: float, repeat: int) -> dict[str, Any]:
    targets = [Target("ipctop", [*ipctop_command(), "exporter", "--interval", "0", "--listen", ""], 0)]
    targets[0].port = free_port()
    targets[0].argv[-1] = f"127.0.0.1:{targets[0].port}"
    if shutil.which(NODE_EXPORTER):
        port = free_port()
        targets.append(Target("node_exporter", [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
                                                f"--collector.filesystem.fs-types-exclude={NODE_FS_TYPES_EXCLUDE}"],
                              port))
    data: dict[str, Any] = {}
    try:
        first = {t.name: t.start() for t in targets}
        time.sleep(SCRAPE_INTERVAL)
        before = {t.name: cpu_seconds(t.popen.pid) for t in targets}
        started = time.perf_counter()
        paced: dict[str, list[float]] = {t.name: [] for t in targets}
        server: list[float] = []
        sizes: dict[str, int] = {}
        while time.perf_counter() - started < cpu_window:
            tick = time.perf_counter()
            for target in targets:
                seconds, body = target.scrape()
                paced[target.name].append(seconds)
                sizes[target.name] = len(body)
                if target.name == "ipctop":
                    server.append(server_side_seconds(body))
            time.sleep(max(0.0, SCRAPE_INTERVAL - (time.perf_counter() - tick)))
        elapsed = time.perf_counter() - started
        after = {t.name: cpu_seconds(t.popen.pid) for t in targets}
        back_to_back: dict[str, list[float]] = {t.name: [] for t in targets}
        for _ in range(repeat):
            for target in targets:
                back_to_back[target.name].append(target.scrape()[0])
        for target in targets:
            body = target.scrape()[1]
            data[target.name] = {
                "first_scrape_s": first[target.name],
                "paced_scrape_s": paced[target.name],
                "back_to_back_scrape_s": back_to_back[target.name],
                "cpu_percent": 100 * (after[target.name] - before[target.name]) / elapsed,
                "cpu_window_s": elapsed,
                "peak_rss_mb": peak_rss_mb(target.popen.pid),
                "bytes": sizes.get(target.name, len(body)),
                "series": sum(1 for line in body.decode().splitlines() if line and not line.startswith("#")),
            }
        data["ipctop"]["server_side_s"] = server
    finally:
        for target in targets:
            target.stop()
    return data


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds == seconds else "-"


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores, {m['os']}, Linux {m['kernel']}, Python {m['python']}",
             f"node_exporter: {results['node_exporter']}",
             "load average before/after: " + " / ".join(f"{results[k][0]:.2f}" for k in ("load_before", "load_after")),
             ""]
    header = ("world", "exporter", "first scrape", f"scrape every {SCRAPE_INTERVAL:.0f} s (median)",
              "back to back (median)", "server side", "CPU at 15 s", "peak RSS", "series", "bytes")
    rows = [header]
    for world, data in results["worlds"].items():
        for name in ("ipctop", "node_exporter"):
            if name not in data:
                continue
            d = data[name]
            rows.append((world, name, ms(d["first_scrape_s"]), ms(median(d["paced_scrape_s"])),
                         ms(median(d["back_to_back_scrape_s"])),
                         ms(median(d["server_side_s"])) if "server_side_s" in d else "",
                         f"{d['cpu_percent']:.2f}%", f"{d['peak_rss_mb']:.0f} MB", str(d["series"]), str(d["bytes"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    text = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    text.insert(1, "  ".join("-" * w for w in widths))
    worst = max((max(d["ipctop"]["paced_scrape_s"] + d["ipctop"]["back_to_back_scrape_s"] + [d["ipctop"]
                 ["first_scrape_s"]]) for d in results["worlds"].values()), default=float("nan"))
    text.append("")
    text.append(f"slowest ipctop scrape of the run: {ms(worst)} (a typical scrape_timeout is "
                f"{TYPICAL_SCRAPE_TIMEOUT:.0f} s)")
    return "\n".join(lines + text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", choices=["default", "large", "both"], default="both")
    parser.add_argument("--cpu-seconds", type=float, default=120.0, help="time scraped every 15 s (default 120)")
    parser.add_argument("--repeat", type=int, default=15, help="back-to-back scrapes (default 15)")
    parser.add_argument("--show", metavar="RESULTS.json", help="print the table of an earlier run and exit")
    args = parser.parse_args(argv)
    if args.show:
        with open(args.show) as f:
            print(report(json.load(f)))
        return 0
    if os.geteuid() != 0:
        print("benchmarks.exporter needs root: it reads every process", file=sys.stderr)
        return 2
    node = subprocess.run([NODE_EXPORTER, "--version"], capture_output=True, text=True, check=False).stdout \
        .splitlines()[0] if shutil.which(NODE_EXPORTER) else "missing (apt-get install prometheus-node-exporter)"
    results: dict[str, Any] = {"machine": machine(), "node_exporter": node, "worlds": {},
                               "load_before": os.getloadavg()}
    worlds = ["default", "large"] if args.world == "both" else [args.world]
    try:
        with interrupts_as_keyboard_interrupt():
            for name in worlds:
                spec = WORLDS[name]
                print(f"building world {name}: {describe(spec)} ...", flush=True)
                with World(spec) as world:
                    print(f"  built in {world.build_seconds:.1f} s; scraping for {args.cpu_seconds:.0f} s ...",
                          flush=True)
                    results["worlds"][name] = measure_world(args.cpu_seconds, args.repeat)
                print(f"  world {name} torn down", flush=True)
    except KeyboardInterrupt:
        print("interrupted: the world was torn down", file=sys.stderr)
        return 130
    except (WorldError, RuntimeError, OSError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    results["load_after"] = os.getloadavg()
    text = report(results)
    print("\n" + text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"exporter-{stamp}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / f"exporter-{stamp}.txt").write_text(text + "\n")
    print(f"\nwritten to {RESULTS}/exporter-{stamp}.json and .txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
