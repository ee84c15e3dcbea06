"""Build a benchmark world in a process group of its own, and tear it down leaving nothing.

`World(spec)` is a context manager.  Entering starts benchmarks.host in a new
session (its pid is the group's pgid) and waits until every process and object
is in place.  Leaving, or an interrupt, ends the group by that pgid, reaps every
member (this process becomes a child subreaper so that orphans come back to it),
removes every IPC object listed in the manifest by its id, deletes the FIFOs and
the temporary directory, and restores kernel.shmmni if it was raised.

`python -m benchmarks.world [--world default|large]` builds a world and holds it
until Ctrl-C, for profiling by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from benchmarks.spec import WORLDS, WorldSpec
from ipctop.demos.context import posix_exists
from ipctop.kernel import posix, sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import POSIX_BENCH_PREFIX

REPO = Path(__file__).resolve().parent.parent
POSIX_KINDS = ("pshm", "psem", "pmsg")
POSIX_UNLINK = {"pshm": posix.shm_unlink, "psem": posix.sem_unlink, "pmsg": posix.mq_unlink}
SHMMNI = Path("/proc/sys/kernel/shmmni")
PR_SET_CHILD_SUBREAPER = 36


class WorldError(Exception):
    """The world could not be built; the message says why."""


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise WorldError(f"prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(ctypes.get_errno())}")


def group_members(pgid: int) -> list[int]:
    """Pids whose process group is `pgid` (zombies included)."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid:
            members.append(int(name))
    return members


def reap_children() -> None:
    """Collect every exited child (orphans of the world come back here as subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def sysvipc_keys(kind: str) -> dict[int, int]:
    """id -> key of every object of `kind` in this IPC namespace."""
    with open(f"/proc/sysvipc/{kind}") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return {int(r[1]): int(r[0]) & 0xFFFFFFFF for r in rows if r}


@contextlib.contextmanager
def interrupts_as_keyboard_interrupt():
    """SIGTERM and SIGHUP unwind like Ctrl-C, so that every `finally` tears down."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class World:
    def __init__(self, spec: WorldSpec, log=print) -> None:  # type: ignore[no-untyped-def]
        self.spec = spec
        self.log = log
        self.directory: str | None = None
        self.host: subprocess.Popen[bytes] | None = None
        self.pgid = 0
        self.shmmni_before: int | None = None
        self.build_seconds = 0.0
        self.built_at = 0.0

    def __enter__(self) -> World:
        try:
            self.build()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()

    # -- building

    def _raise_shmmni(self) -> None:
        needed = len(sysvipc_keys("shm")) + self.spec.segments + 64
        current = int(SHMMNI.read_text())
        if current >= needed:
            return
        wanted = max(needed, 16384)
        try:
            SHMMNI.write_text(f"{wanted}\n")
        except OSError as error:
            raise WorldError(
                f"kernel.shmmni is {current}, {needed} segments need more, and it cannot be raised: {error}"
            ) from None
        self.shmmni_before = current
        self.log(f"raised kernel.shmmni from {current} to {wanted} for this run (restored at teardown)")

    def build(self) -> None:
        started = time.perf_counter()
        become_subreaper()
        if self.spec.segments:
            self._raise_shmmni()
        self.directory = tempfile.mkdtemp(prefix="ipctop-bench-")
        read_end, write_end = os.pipe()
        with open(os.path.join(self.directory, "host.log"), "wb") as log:
            self.host = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.host", self.spec.to_json(), self.directory, str(write_end)],
                pass_fds=(write_end,),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=REPO,
            )
        self.pgid = self.host.pid
        os.close(write_end)
        try:
            line = self._read_line(read_end, timeout=600)
        finally:
            os.close(read_end)
        if not line.startswith("ready"):
            log_text = Path(self.directory, "host.log").read_text(errors="replace").strip().splitlines()
            raise WorldError(f"the world host failed: {line or 'no answer'} {log_text[-1:] if log_text else ''}")
        self.build_seconds = time.perf_counter() - started
        self.built_at = time.perf_counter()  # its objects' age: a table shows seconds for the first minute

    def _read_line(self, fd: int, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return ""
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace").strip()

    # -- what the world holds

    def manifest(self) -> list[tuple[str, int, int]]:
        """(kind, id, key) of every System V object the world made."""
        return [(kind, int(ident), key) for kind, ident, key in self._manifest_rows() if kind not in POSIX_KINDS]

    def posix_names(self) -> list[tuple[str, str]]:
        """(kind, /name) of every POSIX object the world made."""
        return [(kind, ident) for kind, ident, _ in self._manifest_rows() if kind in POSIX_KINDS]

    def _manifest_rows(self) -> list[tuple[str, str, int]]:
        if not self.directory:
            return []
        path = Path(self.directory, "manifest")
        if not path.exists():
            return []
        rows = []
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                rows.append((parts[0], parts[1], int(parts[2])))
        return rows

    def keys(self) -> set[int]:
        return {key for _, _, key in self.manifest()}

    def pids(self) -> set[int]:
        return set(group_members(self.pgid)) if self.pgid else set()

    # -- tearing down

    def teardown(self) -> None:
        if self.host is not None:
            self._end_group()
        leftovers = self._remove_objects()
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        if self.shmmni_before is not None:
            SHMMNI.write_text(f"{self.shmmni_before}\n")
            self.log(f"restored kernel.shmmni to {self.shmmni_before}")
            self.shmmni_before = None
        if leftovers:
            raise WorldError(f"could not remove {leftovers}")

    def _end_group(self) -> None:
        assert self.host is not None
        host = self.host
        # SIGTERM first: the host defers it while an object is made but not yet in the manifest.
        with contextlib.suppress(ProcessLookupError):
            os.kill(host.pid, signal.SIGTERM)
        # Wait for it without reaping: while the leader is a zombie its pid cannot be reused,
        # so the pgid below is still ours.
        with contextlib.suppress(ChildProcessError, subprocess.TimeoutExpired):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if os.waitid(os.P_PID, host.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                    break
                time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        host.wait()
        deadline = time.monotonic() + 60
        while self.pids():
            reap_children()
            if time.monotonic() > deadline:
                raise WorldError(f"processes of group {self.pgid} outlived SIGKILL: {sorted(self.pids())[:10]}")
            time.sleep(0.02)
        self.host = None

    def _remove_objects(self) -> list[str]:
        remove = {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}
        manifest = self.manifest()
        for kind, ident, _ in manifest:
            with contextlib.suppress(IpcError):
                remove[kind](ident)
        leftovers = []
        for kind in ("shm", "msg", "sem"):
            present = sysvipc_keys(kind)
            for _, ident, key in (row for row in manifest if row[0] == kind):
                if present.get(ident) == key:
                    leftovers.append(f"{kind} {ident}")
        for kind, name in self.posix_names():
            if name.lstrip("/").startswith(POSIX_BENCH_PREFIX):
                with contextlib.suppress(IpcError):
                    POSIX_UNLINK[kind](name)
                if posix_exists(kind, name):
                    leftovers.append(f"{kind} {name}")
        return leftovers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a benchmark world and hold it until Ctrl-C.")
    parser.add_argument("--world", choices=sorted(WORLDS), default="default")
    args = parser.parse_args(argv)
    with interrupts_as_keyboard_interrupt(), World(WORLDS[args.world]) as world:
        print(f"world {args.world} ready in {world.build_seconds:.1f} s: pgid {world.pgid}, "
              f"{len(world.pids())} processes, {len(world.manifest())} System V and {len(world.posix_names())} POSIX "
              "objects; Ctrl-C to tear down", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
