"""A memory soak of the monitor: is its resident memory bounded under an hour of IPC churn? (issue 17)

    python -m benchmarks.memory_soak [--minutes 60] [--every 30] [--interval 0.5] [--workers 20]

Run as root, from the repository with its virtualenv on PATH.  It starts `ipctop -d INTERVAL`
(the `ipctop` beside this Python) in a tmux server of its own at 120x40, and beside it a fixed
number of short-lived worker processes: each lives about a second, in which it makes a System V
segment (and attaches it), a queue (with a message in it), a semaphore set, a pipe with bytes in
it and a POSIX shared memory file, forks a child that inherits them all, then removes everything
it made and exits; the soak starts a new worker for each one that ends.  System V keys come from
SOAK_KEYS only (the top of the benchmark range, which the other benchmarks leave alone), each
made with IPC_EXCL, so a key in use is skipped, never touched; POSIX names begin with
`ipctop-bench-soak-PID-` (PID: the soak's own).

Every --every seconds it prints and keeps a sample: the monitor's VmRSS and VmHWM, the monitor's
and the churn's CPU over the last interval, and how many processes the churn has started.  At the
end it prints a summary (RSS at 3, 10, 30 and 60 minutes, the largest, and the slope of RSS over
the last 30 minutes in MB per 10 minutes), writes all samples as JSON to benchmarks/results/, and
tears down: workers killed by pid (their children die with them: PR_SET_PDEATHSIG), every object
of the soak's key range and POSIX prefix that was not there before the soak removed by id or
name, the tmux server killed.  Ctrl-C and SIGTERM tear down the same way.

With --trace, no tmux and no Textual: a Scanner, SnapshotFeed and MonitorState scan in the soak's
own process every --interval seconds under the same churn, with tracemalloc on; every --every
seconds it prints the live Python memory they hold, and at the end the largest growths (by line)
between the first sample after the warm-up (a third of the run) and the last: what grows, if
anything does.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import platform
import random
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.tmux import TerminalSession, cpu_seconds
from ipctop.kernel import posix, sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import BENCH_KEYS, POSIX_BENCH_PREFIX

SOAK_KEYS = range(BENCH_KEYS.start + 0x2C00, BENCH_KEYS.stop)  # 1,024 keys no other benchmark uses
SOAK_PREFIX = POSIX_BENCH_PREFIX + "soak-"
RESULTS = Path(__file__).resolve().parent / "results"
TUI_READY = r"shm \d+/\d+"
SIZE = (120, 40)
PR_SET_PDEATHSIG = 1
SYSV_TABLES = {"shm": "/proc/sysvipc/shm", "msg": "/proc/sysvipc/msg", "sem": "/proc/sysvipc/sem"}
SUMMARY_MINUTES = (3, 10, 30, 60)

_libc = ctypes.CDLL(None, use_errno=True)


class Stop(Exception):
    """SIGTERM or SIGHUP: tear down as for Ctrl-C."""


@dataclass
class Sample:
    seconds: float
    rss_mb: float
    hwm_mb: float
    monitor_cpu_percent: float
    churn_cpu_percent: float
    workers_started: int
    processes_started: int
    processes_per_second: float
    load_average: float
    machine_processes: int  # the world the monitor shows, which other work on the machine changes too
    machine_sysv_objects: int


# --- the churn -----------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """SIGKILL when the parent ends (by any means); exit at once if it already has."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _make_sysv(make: Callable[[int], int]) -> int:
    """An object under a free soak key (IPC_EXCL: a key in use is skipped, never touched)."""
    for _ in range(100):
        with contextlib.suppress(IpcError):
            return make(random.choice(SOAK_KEYS))
    raise RuntimeError("no free key in the soak's range")


def _work(supervisor: int, posix_prefix: str) -> int:
    """One worker's life: make one of each kind, fork a child that inherits them, remove them, end."""
    _die_with_parent(supervisor)
    random.seed()
    flags = sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600
    undo: list[Callable[[], None]] = []
    try:
        shmid = _make_sysv(lambda key: sysv.shmget(key, 4096, flags))
        undo.append(lambda: sysv.shm_remove(shmid))
        address = sysv.shmat(shmid)
        undo.append(lambda: sysv.shmdt(address))
        msqid = _make_sysv(lambda key: sysv.msgget(key, flags))
        undo.append(lambda: sysv.msg_remove(msqid))
        sysv.msgsnd(msqid, 1, b"soak" * 16, nowait=True)
        semid = _make_sysv(lambda key: sysv.semget(key, 1, flags))
        undo.append(lambda: sysv.sem_remove(semid))
        sysv.semop(semid, 0, 1, nowait=True)
        reader, writer = os.pipe()
        undo += [lambda: os.close(reader), lambda: os.close(writer)]
        os.write(writer, b"soak" * 64)
        name = posix_prefix + secrets.token_hex(4)
        fd = posix.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR)
        undo += [lambda: posix.shm_unlink(name), lambda: os.close(fd)]
        os.ftruncate(fd, 4096)
        me = os.getpid()
        child = os.fork()
        if child == 0:
            try:
                _die_with_parent(me)
                time.sleep(random.uniform(0.3, 0.9))
            finally:
                os._exit(0)
        time.sleep(random.uniform(0.7, 1.3))
        os.waitpid(child, 0)
        return 0
    finally:
        for step in reversed(undo):
            with contextlib.suppress(IpcError, OSError):
                step()


def start_worker(supervisor: int, posix_prefix: str) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the soak's to handle; we are killed by pid
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            code = _work(supervisor, posix_prefix)
        finally:
            os._exit(code)
    return pid


class Churn:
    """A fixed number of workers, each replaced when it ends; the soak's own process is their parent."""

    def __init__(self, workers: int) -> None:
        self.size = workers
        self.me = os.getpid()
        self.posix_prefix = f"{SOAK_PREFIX}{self.me}-"
        self.live: set[int] = set()
        self.workers_started = 0
        self.children_started = 0  # a worker that exits 0 has forked (and waited for) its child

    def keep_up(self) -> None:
        """Reap the workers that ended and start one for each."""
        while self.live:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.live:
                self.live.discard(pid)
                if os.waitstatus_to_exitcode(status) == 0:
                    self.children_started += 1
        while len(self.live) < self.size:
            self.live.add(start_worker(self.me, self.posix_prefix))
            self.workers_started += 1

    @property
    def processes_started(self) -> int:
        return self.workers_started + self.children_started

    def stop(self) -> None:
        for pid in self.live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in list(self.live):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self.live.discard(pid)


# --- what the soak made, and sweeping it -------------------------------------------------


def soak_objects() -> set[tuple[str, int]]:
    """(kind, id) of every System V object under a soak key."""
    found: set[tuple[str, int]] = set()
    for kind, table in SYSV_TABLES.items():
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if int(fields[0]) & 0xFFFF_FFFF in SOAK_KEYS:
                    found.add((kind, int(fields[1])))
    return found


def soak_files(prefix: str) -> list[str]:
    return sorted(name for name in os.listdir(posix.DEV_SHM) if name.startswith(prefix))


def sweep(before: set[tuple[str, int]], prefix: str) -> int:
    """Remove what the soak's workers left (killed mid-life): objects of the soak's range not there before."""
    removers = {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}
    removed = 0
    for kind, ident in sorted(soak_objects() - before):
        with contextlib.suppress(IpcError):
            removers[kind](ident)
            removed += 1
    for name in soak_files(prefix):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(posix.DEV_SHM, name))
            removed += 1
    return removed


# --- measuring ---------------------------------------------------------------------------


def status_mb(pid: int) -> dict[str, float]:
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values


def machine_counts() -> dict[str, int]:
    objects = 0
    for table in SYSV_TABLES.values():
        with open(table) as f:
            objects += sum(1 for _ in f) - 1
    processes = sum(1 for name in os.listdir("/proc") if name.isdigit())
    return {"machine_processes": processes, "machine_sysv_objects": objects}


def own_and_children_cpu() -> float:
    """CPU seconds of this process and of its reaped children (the workers, and their children)."""
    with open("/proc/self/stat", "rb") as f:
        text = f.read()
    fields = text[text.rindex(b")") + 2 :].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def rss_at(samples: list[Sample], minutes: float, every: float) -> float | None:
    nearest = min(samples, key=lambda s: abs(s.seconds - minutes * 60))
    return nearest.rss_mb if abs(nearest.seconds - minutes * 60) <= every else None


def slope_mb_per_10_min(samples: list[Sample], window_s: float) -> float | None:
    """Least-squares slope of RSS over the last `window_s` seconds."""
    end = samples[-1].seconds
    points = [(s.seconds, s.rss_mb) for s in samples if s.seconds >= end - window_s]
    if len(points) < 3:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_r = sum(r for _, r in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (r - mean_r) for t, r in points) / spread * 600


def summarize(samples: list[Sample], every: float) -> dict[str, object]:
    end = samples[-1].seconds
    window = 30 * 60 if end >= 60 * 60 else end / 2  # a short run: its second half
    seconds = end or 1
    return {
        "rss_mb_at_minutes": {str(m): rss_at(samples, m, every) for m in SUMMARY_MINUTES},
        "rss_mb_max": max(s.rss_mb for s in samples),
        "hwm_mb_end": samples[-1].hwm_mb,
        "slope_window_minutes": window / 60,
        "slope_mb_per_10_min": slope_mb_per_10_min(samples, window),
        "monitor_cpu_percent_mean": sum(s.monitor_cpu_percent for s in samples[1:]) / max(len(samples) - 1, 1),
        "churn_cpu_percent_mean": sum(s.churn_cpu_percent for s in samples[1:]) / max(len(samples) - 1, 1),
        "processes_per_second_mean": samples[-1].processes_started / seconds,
        "processes_started": samples[-1].processes_started,
    }


def print_summary(summary: dict[str, object]) -> None:
    at = summary["rss_mb_at_minutes"]
    assert isinstance(at, dict)
    print()
    print("RSS at " + ", ".join(f"{m} min: {'-' if v is None else f'{v:.1f} MB'}" for m, v in at.items()))
    print(f"RSS max {summary['rss_mb_max']:.1f} MB, VmHWM at the end {summary['hwm_mb_end']:.1f} MB")
    slope = summary["slope_mb_per_10_min"]
    window = summary["slope_window_minutes"]
    assert isinstance(window, float | int)
    slope_text = "-" if not isinstance(slope, float) else f"{slope:+.2f} MB per 10 min"
    print(f"slope over the last {window:.0f} min: {slope_text}")
    print(f"monitor CPU {summary['monitor_cpu_percent_mean']:.1f}% on average; churn CPU "
          f"{summary['churn_cpu_percent_mean']:.1f}% of one core, {summary['processes_per_second_mean']:.1f} "
          f"processes a second ({summary['processes_started']} in all)")


# --- the soak ----------------------------------------------------------------------------


def _raise_stop(signum: int, _frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


@contextlib.contextmanager
def tmux_directory_kept() -> Iterator[None]:
    """tmux makes /tmp/tmux-UID for its sockets; remove it afterwards if the soak made it and it is empty."""
    directory = Path(f"/tmp/tmux-{os.getuid()}")
    existed = directory.exists()
    try:
        yield
    finally:
        if not existed:
            with contextlib.suppress(OSError):
                directory.rmdir()


def soak(minutes: float, every: float, interval: str, workers: int) -> int:
    ipctop = Path(sys.executable).with_name("ipctop")
    if not ipctop.exists():
        print(f"no ipctop beside {sys.executable}: run from the worktree's virtualenv", file=sys.stderr)
        return 2
    before = soak_objects()
    if before:
        print(f"{len(before)} objects already under the soak's keys: left alone")
    churn = Churn(workers)
    samples: list[Sample] = []
    started_at = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    output = RESULTS / f"memory_soak-{started_at}.json"
    interrupted = None
    with tmux_directory_kept(), TerminalSession([str(ipctop), "-d", interval], *SIZE) as monitor:
        try:
            monitor.wait_for(TUI_READY)
            print(f"monitor pid {monitor.pid} (ipctop -d {interval}, {SIZE[0]}x{SIZE[1]}), {workers} workers; "
                  f"samples every {every:g} s for {minutes:g} min")
            print(f"{'min':>6} {'RSS MB':>7} {'HWM MB':>7} {'mon CPU':>8} {'churn CPU':>9} "
                  f"{'workers':>8} {'processes':>9} {'proc/s':>6} {'load':>5} {'machine procs':>13} {'sysv objs':>9}")
            start = time.monotonic()
            last = (start, cpu_seconds(monitor.pid), own_and_children_cpu(), 0)
            next_sample = start
            while True:
                now = time.monotonic()
                if now >= next_sample:
                    memory = status_mb(monitor.pid)
                    monitor_cpu, churn_cpu = cpu_seconds(monitor.pid), own_and_children_cpu()
                    elapsed = max(now - last[0], 1e-9)
                    sample = Sample(
                        seconds=round(now - start, 1), rss_mb=round(memory["VmRSS"], 1),
                        hwm_mb=round(memory["VmHWM"], 1),
                        monitor_cpu_percent=round(100 * (monitor_cpu - last[1]) / elapsed, 2),
                        churn_cpu_percent=round(100 * (churn_cpu - last[2]) / elapsed, 2),
                        workers_started=churn.workers_started, processes_started=churn.processes_started,
                        processes_per_second=round((churn.processes_started - last[3]) / elapsed, 1),
                        load_average=os.getloadavg()[0], **machine_counts())
                    samples.append(sample)
                    last = (now, monitor_cpu, churn_cpu, churn.processes_started)
                    print(f"{sample.seconds / 60:6.1f} {sample.rss_mb:7.1f} {sample.hwm_mb:7.1f} "
                          f"{sample.monitor_cpu_percent:7.1f}% {sample.churn_cpu_percent:8.1f}% "
                          f"{sample.workers_started:8d} {sample.processes_started:9d} "
                          f"{sample.processes_per_second:6.1f} {sample.load_average:5.2f} "
                          f"{sample.machine_processes:13d} {sample.machine_sysv_objects:9d}", flush=True)
                    if now - start >= minutes * 60:
                        break
                    next_sample += every
                churn.keep_up()
                time.sleep(0.05)
        except (KeyboardInterrupt, Stop) as reason:
            interrupted = str(reason) or "SIGINT"
            print(f"\ninterrupted ({interrupted}): tearing down")
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the teardown short
            churn.stop()
    # the workers are reaped and their children killed with them; what they had not removed goes now
    removed = sweep(before, churn.posix_prefix)
    print(f"teardown: {churn.workers_started} workers ended, {removed} objects left by killed workers removed")
    left = soak_objects() - before, soak_files(churn.posix_prefix)
    if any(left):
        print(f"still there: {len(left[0])} System V objects, {len(left[1])} POSIX files", file=sys.stderr)
    result: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version()},
        "arguments": {"minutes": minutes, "every": every, "interval": interval, "workers": workers},
        "interrupted": interrupted,
        "samples": [asdict(s) for s in samples],
    }
    if len(samples) >= 2:
        summary = summarize(samples, every)
        result["summary"] = summary
        print_summary(summary)
    output.write_text(json.dumps(result, indent=1))
    print(f"samples: {output}")
    return 1 if interrupted or any(left) else 0


def trace(minutes: float, every: float, interval: float, workers: int) -> int:
    """The monitor's model without its screen, under the same churn, with tracemalloc on."""
    import tracemalloc

    from ipctop.snapshot import Scanner
    from ipctop.tui.state import MonitorState, SnapshotFeed

    before = soak_objects()
    churn = Churn(workers)
    tracemalloc.start(1)
    scanner, state = Scanner(ancestry=True), MonitorState()  # as the TUI makes it
    feed = SnapshotFeed(scanner.scan)
    baseline: tracemalloc.Snapshot | None = None
    interrupted = None
    print(f"{'min':>6} {'traced MB':>9} {'RSS MB':>7} {'scans':>6} {'processes':>9} {'machine procs':>13}")
    try:
        start = time.monotonic()
        next_scan = next_sample = start
        while True:
            now = time.monotonic()
            if now >= next_scan:
                state.apply(feed.next())
                next_scan += interval
            if now >= next_sample:
                current, _peak = tracemalloc.get_traced_memory()
                print(f"{(now - start) / 60:6.1f} {current / 2**20:9.1f} {status_mb(os.getpid())['VmRSS']:7.1f} "
                      f"{state.scans:6d} {churn.processes_started:9d} {machine_counts()['machine_processes']:13d}",
                      flush=True)
                if baseline is None and now - start >= minutes * 20:
                    baseline = tracemalloc.take_snapshot()
                if now - start >= minutes * 60:
                    break
                next_sample += every
            churn.keep_up()
            time.sleep(0.02)
    except (KeyboardInterrupt, Stop) as reason:
        interrupted = str(reason) or "SIGINT"
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        churn.stop()
        sweep(before, churn.posix_prefix)
    if baseline is not None and interrupted is None:
        end = tracemalloc.take_snapshot()
        ours = [tracemalloc.Filter(False, tracemalloc.__file__)]
        print("\nlargest growths from a third of the run to its end (size, count):")
        for stat in end.filter_traces(ours).compare_to(baseline.filter_traces(ours), "lineno")[:15]:
            print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d}  {stat.traceback}")
    return 1 if interrupted else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to soak (default 60)")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples (default 30)")
    parser.add_argument("--interval", default="0.5", help="the monitor's -d (default 0.5)")
    parser.add_argument("--workers", type=int, default=20, help="concurrent churn workers (default 20)")
    parser.add_argument("--trace", action="store_true",
                        help="no monitor: a Scanner and MonitorState in this process, with tracemalloc")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("the memory soak runs as root (its monitor reads every process)", file=sys.stderr)
        return 2
    if args.minutes <= 0 or args.every <= 0 or args.workers <= 0:
        print("--minutes, --every and --workers must be positive", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)
    if args.trace:
        return trace(args.minutes, args.every, float(args.interval), args.workers)
    return soak(args.minutes, args.every, args.interval, args.workers)


if __name__ == "__main__":
    sys.exit(main())
