"""Running a demo in a test, looking at the kernel while it runs, and checking that
it left nothing behind.

`run_demo(name, at={slug: check})` runs the demo with a step gate: `check(run)`
is called just before step `slug`, while the demo waits, so that the test reads
/proc at the moment the lesson is about.  The checks raise; the run then stops
and `run_demo` re-raises.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from ipctop.demos import DemoRun, find
from ipctop.demos.context import posix_exists
from ipctop.keys import DEMO_KEYS, POSIX_DEMO_PREFIX
from tests.support.holders import WAIT_SECONDS

Check = Callable[[DemoRun], None]
TEST_SPEED = 20.0


@dataclass
class Finished:
    run: DemoRun
    lines: list[str]
    steps: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def run_demo(name: str, speed: float = TEST_SPEED, at: dict[str, Check] | None = None,
             on_line: Callable[[DemoRun, str], None] | None = None, timeout: float = 60) -> Finished:
    """Run `name` to its end with the checks in `at`; assert it finished and left nothing."""
    at = at or {}
    lines: list[str] = []
    steps: list[str] = []
    before = DemoTraces.now()

    def narrate(line: str) -> None:
        lines.append(line)
        if on_line is not None:
            on_line(run, line)

    def gate() -> None:
        step = run.current_step
        assert step is not None
        steps.append(step.slug)
        if step.slug in at:
            at[step.slug](run)

    run = DemoRun(name, speed=speed, narrate=narrate, step_gate=gate)
    with run:
        assert run.wait(timeout), f"demo {name} did not end within {timeout} s"
    assert run.outcome == "finished", f"{run.outcome}: {run.error}\n" + "\n".join(lines)
    info = find(name)
    assert info is not None and len(steps) == info.steps, steps
    missing = set(at) - set(steps)
    assert not missing, f"no step {missing} in {steps}"
    assert_nothing_left(run, before)
    return Finished(run, lines, steps)


# --- what the demo left ---------------------------------------------------------


def sysvipc(kind: str) -> list[dict[str, int]]:
    """The rows of /proc/sysvipc/KIND, keys unsigned and perms octal."""
    with open(f"/proc/sysvipc/{kind}") as f:
        header, *rows = f.read().splitlines()
    names = header.split()
    table = []
    for row in rows:
        values = row.split()
        if values:
            fields = dict(zip(names, map(int, values), strict=False))
            fields["key"] &= 0xFFFFFFFF
            fields["perms"] = int(values[names.index("perms")], 8)
            table.append(fields)
    return table


def sysvipc_row(kind: str, ident: int) -> dict[str, int] | None:
    id_column = {"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]
    return next((row for row in sysvipc(kind) if row[id_column] == ident), None)


def temp_dirs() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "ipctop-demo-*")))


@dataclass
class DemoTraces:
    """What of the demos' kind exists before a run: objects with demo keys and temp dirs."""

    objects: set[tuple[str, int]]
    dirs: set[str]
    posix: set[str]

    @classmethod
    def now(cls) -> DemoTraces:
        objects = set()
        for kind in ("shm", "msg", "sem"):
            id_column = {"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]
            objects |= {(kind, row[id_column]) for row in sysvipc(kind) if row["key"] in DEMO_KEYS}
        return cls(objects, temp_dirs(), demo_posix_names())


def leftovers(run: DemoRun, before: DemoTraces) -> list[str]:
    """Everything the run made that still exists, seen from /proc, apart from what it kept."""
    made = run.made
    ended = time.time()
    found = []
    for pid, role in made.pids.items():
        try:
            process = psutil.Process(pid)
            if process.create_time() <= ended and process.status() != psutil.STATUS_ZOMBIE:
                found.append(f"process {pid} ({role})")
        except psutil.NoSuchProcess:
            pass
    kept = {ident for (_kind, ident) in run.kept}
    for kind in ("shm", "msg", "sem"):
        id_column = {"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]
        for row in sysvipc(kind):
            ident = row[id_column]
            if ident in kept:
                continue
            ours = ident in getattr(made, kind) or row["key"] in made.keys
            # Objects the demo's processes made that it never told about: by creator, or last user.
            ours |= kind == "shm" and row["cpid"] in made.pids
            ours |= kind == "msg" and row["key"] in DEMO_KEYS and (kind, ident) not in before.objects \
                and (row["lspid"] in made.pids or row["lrpid"] in made.pids)
            if ours:
                found.append(f"{kind} {ident} key {row['key']:#010x}")
    found += [path for path in made.paths if os.path.lexists(path)]
    found += sorted(temp_dirs() - before.dirs)
    found += [f"{kind} {name}" for kind, name in sorted(made.posix) if posix_exists(kind, name)]
    found += sorted(demo_posix_names() - before.posix)
    return found


def demo_posix_names() -> set[str]:
    """The files of /dev/shm in the demos' POSIX range (shared memory, and semaphores as sem.NAME)."""
    return {entry for entry in os.listdir("/dev/shm") if entry.removeprefix("sem.").startswith(POSIX_DEMO_PREFIX)}


def assert_nothing_left(run: DemoRun, before: DemoTraces) -> None:
    left = leftovers(run, before)
    assert not left, f"demo {run.info.name} left behind: {left}"
    assert run.leftovers() == []


# --- looking at processes -------------------------------------------------------


def wchan(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip()
    except OSError:
        return ""


def pipe_ends(pid: int) -> dict[int, tuple[int, str]]:
    """fd -> (pipe inode, 'r' or 'w') for the anonymous pipe ends `pid` holds."""
    ends = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
            with open(f"/proc/{pid}/fdinfo/{name}") as f:
                flags = int(re.search(r"flags:\s+([0-7]+)", f.read()).group(1), 8)
        except (OSError, AttributeError):
            continue
        match = re.fullmatch(r"pipe:\[(\d+)\]", target)
        if match:
            ends[int(name)] = (int(match.group(1)), {0: "r", 1: "w"}.get(flags & 0o3, "rw"))
    return ends


def maps_sysv(pid: int) -> list[str]:
    """The /SYSV… names in `pid`'s memory maps: its shared memory attachments."""
    with open(f"/proc/{pid}/maps") as f:
        return [line.split()[-2] if line.rstrip().endswith("(deleted)") else line.split()[-1]
                for line in f if "/SYSV" in line]


def stat_field(pid: int, index: int) -> str:
    """Field `index` of /proc/PID/stat counted after the command name (0 is the state)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()[index]


def zombie_status(pid: int) -> int:
    """The wait status of a zombie: the last field of /proc/PID/stat."""
    assert stat_field(pid, 0) == "Z", f"{pid} is not a zombie"
    return int(stat_field(pid, -1))


def wait_for(predicate: Callable[[], object], timeout: float = WAIT_SECONDS, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.005)
    return value
