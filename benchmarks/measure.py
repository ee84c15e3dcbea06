"""The measurements of issues 7 and 17, each returning plain numbers (seconds, percent, MB, bytes).

1. `snapshot_vs_tools`: a Scanner's scan, and `ipctop list --json` as a whole process,
   against `lsof -n` and `lsfd`, interleaved in one run, after checking that the
   snapshot equals a naive full scan of the world.
2. `tui_cpu_vs_htop`: CPU of `ipctop -d 1`, `ipctop -d 10` and `htop -d 10` side by side
   under tmux (and of `ipctop -d 0.1` alone, where asked).
3. `tui_probe`: refresh tick, key presses and peak RSS of the monitor (benchmarks.tui_probe).
4. `startup`: `ipctop list --json` against `lsof -n` and `lsfd`, and the monitor's first
   full screen, on an idle machine.
5. `growth`: how a one-off snapshot and its JSON grow with the world's processes (the
   same world read with a quarter, half and all of them).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.naive import compare, compare_namespaces, naive_namespaces, naive_snapshot
from benchmarks.tmux import TerminalSession, cpu_seconds, peak_rss_mb
from benchmarks.world import REPO, World

# The monitor's summary line shows `shm N/LIMIT` once the first scan is on screen.
TUI_READY = r"shm \d+/\d+"
HTOP_READY = r"PID\s+USER"


def ipctop_command() -> list[str]:
    beside = Path(sys.executable).with_name("ipctop")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ipctop")
    return [found] if found else [sys.executable, "-m", "ipctop"]


# benchmarks/floor.py without site or ipctop: the least a Python program spends on the reads of a one-off look
# (imported, not run as a script, so that its compiled code is cached as ipctop's is)
FLOOR = [sys.executable, "-S", "-c",
         f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import floor; floor.main()"]


def wall_seconds(argv: list[str], env: dict[str, str] | None = None, limit: float = 600.0) -> float:
    """A command's wall time as a whole process, start to exit.  Its end is awaited by a blocking wait:
    `subprocess.run(timeout=)` polls with sleeps growing to 50 ms, which added up to 50 ms to every
    figure (lsof -n on the idle machine read 64 ms for 37)."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
    watchdog = threading.Timer(limit, child.kill)
    watchdog.start()
    try:
        child.wait()
    finally:
        watchdog.cancel()
    return time.perf_counter() - started


def with_bytecode_cache(directory: str) -> dict[str, str]:
    """The environment with compiled modules cached (in `directory`), as an installed ipctop runs.

    Python here may run with PYTHONDONTWRITEBYTECODE=1, which compiles every module
    from source at each start; a pip-installed package has its .pyc files.
    """
    env = {**os.environ, "PYTHONPYCACHEPREFIX": directory}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


COLD_SNAPSHOT = "import time, ipctop.snapshot as s; t = time.perf_counter(); s.take_snapshot(); " \
    "print(time.perf_counter() - t)"


def cold_snapshot_seconds() -> float:
    """One snapshot in a fresh process (after its imports): what `ipctop list` pays."""
    out = subprocess.run([sys.executable, "-c", COLD_SNAPSHOT], capture_output=True, text=True, check=True,
                         timeout=600, cwd=REPO)
    return float(out.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def list_json_seconds(env: dict[str, str]) -> float:
    """`ipctop list --json` as a script runs it, the whole process, its output written to /dev/null."""
    return wall_seconds([*ipctop_command(), "list", "--json"], env)


def list_json_bytes(env: dict[str, str]) -> int:
    out = subprocess.run([*ipctop_command(), "list", "--json"], capture_output=True, check=True, timeout=600, env=env)
    return len(out.stdout)


def snapshot_vs_tools(world: World, repeat: int, tool_repeat: int, tools: dict[str, bool]) -> dict[str, Any]:
    from ipctop.snapshot import Scanner

    monitor, full_reader = Scanner(ancestry=True), Scanner(remember_quiet=False)  # the monitor's, as the TUI makes it
    for _ in range(3):  # imports and caches, and the memory of quiet processes, as a running monitor has them
        monitor.scan()
        full_reader.scan()
    differences = compare(monitor.scan(), naive_snapshot(), world.keys(), world.pids())
    differences += compare(full_reader.scan(), naive_snapshot(), world.keys(), world.pids())
    differences += compare_namespaces(monitor.scan(), naive_namespaces(world.pids()))  # its other IPC namespaces
    result: dict[str, Any] = {"differences": differences[:20], "identical": not differences}
    snapshot_wall, snapshot_cpu, full_wall, lsof, lsfd, naive, cold = [], [], [], [], [], [], []
    listing: list[float] = []
    floor: list[float] = []
    cache = tempfile.TemporaryDirectory(prefix="ipctop-bench-pyc-")
    env = with_bytecode_cache(cache.name)
    result["list_json_bytes"] = list_json_bytes(env)  # and compiles every module once
    for i in range(repeat):  # interleaved, so that every tool meets the same load
        started, cpu = time.perf_counter(), time.process_time()
        monitor.scan()
        snapshot_wall.append(time.perf_counter() - started)
        snapshot_cpu.append(time.process_time() - cpu)
        started = time.perf_counter()
        full_reader.scan()
        full_wall.append(time.perf_counter() - started)
        if i < tool_repeat:
            if tools.get("lsof"):
                lsof.append(wall_seconds(["lsof", "-n"]))
            if tools.get("lsfd"):
                lsfd.append(wall_seconds(["lsfd"]))
            listing.append(list_json_seconds(env))
            floor.append(wall_seconds(FLOOR, env))
            if i < 3:
                started = time.perf_counter()
                naive_snapshot()
                naive.append(time.perf_counter() - started)
                cold.append(cold_snapshot_seconds())
    cache.cleanup()
    result.update(snapshot_s=snapshot_wall, snapshot_cpu_s=snapshot_cpu, full_snapshot_s=full_wall, lsof_s=lsof,
                  lsfd_s=lsfd, naive_s=naive, cold_snapshot_s=cold, list_json_s=listing,
                  floor_s=floor)
    again = compare(monitor.scan(), naive_snapshot(), world.keys(), world.pids())
    again += compare(full_reader.scan(), naive_snapshot(), world.keys(), world.pids())
    again += compare_namespaces(full_reader.scan(), naive_namespaces(world.pids()))
    result["differences"] += again[:20]
    result["identical"] = result["identical"] and not again
    return result


def tui_cpu_vs_htop(seconds: float, size: tuple[int, int], slow_seconds: float = 0.0,
                    built_at: float | None = None) -> dict[str, Any]:
    """`ipctop -d 1`, `ipctop -d 10` and `htop -d 10` (1 s) side by side, each in a terminal of its own,
    CPU over the same `seconds` after start-up; the `-d 10` monitor's over `slow_seconds` when longer
    (in 10 s it scans once, and CPU time counts in ticks of 10 ms: 60 s are six scans, to 0.02 points).
    `built_at` (perf_counter): when the world's objects were made, for their age while sampled (a table
    draws ages in seconds for the first minute, and so anew at every tick)."""
    width, height = size
    with tempfile.TemporaryDirectory(prefix="ipctop-bench-home-") as home:
        # htop reads (and may write) its settings under $HOME: give it an empty one; ipctop too
        # (no saved settings: the interval is the one given).
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home}
        with TerminalSession([*ipctop_command(), "-d", "1"], width, height, env=env) as tui, \
                TerminalSession([*ipctop_command(), "-d", "10"], width, height, env=env) as slow, \
                TerminalSession(["htop", "-d", "10"], width, height, env=env) as htop:
            tui.wait_for(TUI_READY)
            slow.wait_for(TUI_READY)
            htop.wait_for(HTOP_READY)
            time.sleep(3)  # past start-up: the steady state is what is compared
            sessions = (tui, slow, htop)
            before, started = [cpu_seconds(s.pid) for s in sessions], time.perf_counter()
            time.sleep(seconds)
            after, elapsed = [cpu_seconds(s.pid) for s in sessions], time.perf_counter() - started
            ages = (started - built_at, started + elapsed - built_at) if built_at else None
            rss = peak_rss_mb(tui.pid)
            slow_elapsed = elapsed
            if slow_seconds > elapsed:
                time.sleep(slow_seconds - elapsed)
                after[1], slow_elapsed = cpu_seconds(slow.pid), time.perf_counter() - started
    percent = [100 * (a - b) / elapsed for a, b in zip(after, before, strict=True)]
    return {
        "seconds": elapsed,
        "slow_seconds": slow_elapsed,
        "ipctop_cpu_percent": percent[0],
        "ipctop_10s_cpu_percent": 100 * (after[1] - before[1]) / slow_elapsed,
        "htop_cpu_percent": percent[2],
        "ipctop_peak_rss_mb": rss,
        "objects_age_s": ages,
    }


def tui_cpu_alone(interval: str, seconds: float, size: tuple[int, int]) -> dict[str, Any]:
    """The monitor at `-d interval` alone in a terminal: its CPU over `seconds` after start-up."""
    with tempfile.TemporaryDirectory(prefix="ipctop-bench-home-") as home:
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home}
        with TerminalSession([*ipctop_command(), "-d", interval], *size, env=env) as tui:
            tui.wait_for(TUI_READY)
            time.sleep(3)
            before, started = cpu_seconds(tui.pid), time.perf_counter()
            time.sleep(seconds)
            after, elapsed = cpu_seconds(tui.pid), time.perf_counter() - started
            rss = peak_rss_mb(tui.pid)
    return {"interval": interval, "seconds": elapsed, "cpu_percent": 100 * (after - before) / elapsed,
            "peak_rss_mb": rss}


def world_counts(world: World) -> dict[str, int]:
    """How many processes, fds and mappings (lines of maps) the world's processes hold."""
    counts = {"processes": 0, "fds": 0, "mappings": 0}
    for pid in world.pids():
        try:
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            with open(f"/proc/{pid}/maps", "rb") as f:
                mappings = f.read().count(b"\n")
        except OSError:
            continue
        counts["processes"] += 1
        counts["fds"] += fds
        counts["mappings"] += mappings
    return counts


def growth(world: World, repeat: int) -> dict[str, Any]:
    """A one-off snapshot (a fresh Scanner, as `ipctop list` takes it) and its JSON, of the world read with
    none, a quarter, half and all of its processes (the others skipped as if they were not there):
    linear growth gives the same cost per 1,000 processes at each size.  A process holding a tenth of the
    world's fds or more is read at every size."""
    from ipctop.frozen import replace
    from ipctop.render.jsonout import snapshot_to_json
    from ipctop.snapshot import LIVE, Scanner

    every = world.pids() - {world.pgid}  # the leader stays: it made the world's objects
    held = {pid: _fd_count(pid) for pid in every}
    # A process holding a tenth of the world's fds (pipes9900's hoarder) is in every size, none included:
    # a quarter of the processes cannot hold a quarter of its fds, so with it in one size and not in
    # another the cost per 1,000 processes would measure where it fell, not how cost grows.
    tenth = sum(held.values()) / 10
    outliers = {pid for pid, count in held.items() if count > tenth}
    pids = sorted(every - outliers)
    sizes: dict[str, Any] = {}
    for fraction in (0.0, 0.25, 0.5, 1.0):
        # every 4th (2nd) pid, not the first quarter (half): the same mix of processes at each size, whatever
        # order the pids wrapped around in (pid_max 32768: a world's later processes may have lower pids)
        shown = set(pids[:: round(1 / fraction)]) if fraction else set()
        proc = replace(LIVE, skip=frozenset(p for p in pids if p not in shown))
        times, json_times, size = [], [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            snapshot = Scanner(proc, remember_quiet=False).scan()
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            size = len(snapshot_to_json(snapshot))
            json_times.append(time.perf_counter() - started)
        # the least of the repeats as well as the median: what disturbs a timing only adds to it, and at
        # pipes9900 the hoarder's 19,805 fds (read at every size) vary by more than 250 processes cost
        sizes[f"{fraction:g}"] = {"processes": len(shown), "snapshot_s": median(times),
                                  "snapshot_min_s": min(times), "snapshot_spread_s": max(times) - min(times),
                                  "json_s": median(json_times), "json_bytes": size,
                                  "in_every_size": len(outliers), "their_fds": sum(held[p] for p in outliers)}
    return sizes


def _fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def tui_probe(ticks: int, presses: int, size: tuple[int, int]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.tui_probe", "--ticks", str(ticks), "--presses", str(presses),
         "--size", f"{size[0]}x{size[1]}"],
        capture_output=True, text=True, cwd=REPO, check=False, timeout=1800,
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the monitor probe failed: {last}")
    return json.loads(completed.stdout)


def startup(repeat: int, size: tuple[int, int], with_tui: bool, tools: dict[str, bool]) -> dict[str, Any]:
    ipctop = ipctop_command()
    interpreter, listing, uncached, lsof, lsfd, floor = [], [], [], [], [], []
    result: dict[str, Any] = {"command": ipctop}
    with tempfile.TemporaryDirectory(prefix="ipctop-bench-pyc-") as cache:
        env = with_bytecode_cache(cache)
        wall_seconds([*ipctop, "list", "--json"], env)  # compiles and caches every module once
        for _ in range(repeat):
            interpreter.append(wall_seconds([sys.executable, "-c", "pass"], env))
            listing.append(wall_seconds([*ipctop, "list", "--json"], env))
            floor.append(wall_seconds(FLOOR, env))
            if os.environ.get("PYTHONDONTWRITEBYTECODE"):
                uncached.append(wall_seconds([*ipctop, "list", "--json"]))
            if tools.get("lsof"):
                lsof.append(wall_seconds(["lsof", "-n"]))
            if tools.get("lsfd"):
                lsfd.append(wall_seconds(["lsfd"]))
        result.update(python_s=interpreter, list_json_s=listing, list_json_uncached_s=uncached, lsof_s=lsof,
                      lsfd_s=lsfd, floor_s=floor,
                      processes=sum(1 for name in os.listdir("/proc") if name.isdigit()))
        if with_tui:
            first = []
            for _ in range(max(3, repeat // 3)):
                with TerminalSession([*ipctop, "-d", "3600"], *size, env=env) as tui:
                    first.append(tui.wait_for(TUI_READY))
            result["tui_first_screen_s"] = first
    return result


def machine() -> dict[str, Any]:
    def version(argv: list[str], marker: str = "") -> str:
        if not shutil.which(argv[0]):
            return "missing"
        out = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=10)
        lines = [line.strip() for line in (out.stdout + out.stderr).splitlines() if marker in line]
        return lines[0] if lines else "?"

    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    os_name = "?"
    if Path("/etc/os-release").exists():
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": os.uname().release,
        "os": os_name,
        "python": sys.version.split()[0],
        "textual": importlib.metadata.version("textual"),
        "lsof": version(["lsof", "-v"], "revision"),
        "lsfd": version(["lsfd", "--version"]),
        "htop": version(["htop", "--version"]),
        "tmux": version(["tmux", "-V"]),
    }
