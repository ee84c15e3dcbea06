"""DemoRun: start a demo in the background, follow its narration, gate its steps,
know what it made, and stop it from any thread leaving nothing behind.

The demo runs in a process of its own (worker.py), in a new session so that a
Ctrl-C at the terminal reaches only the caller, which then calls stop().  A
reader thread receives the demo's records (protocol.py) and calls `narrate`
and `step_gate` from that thread.  If the demo process dies without cleaning
up (SIGKILL), the runner removes what it was told about: processes by pid
(checked against their start time), IPC objects by id (checked against their
key) and the demo's temporary directory.  The demo process ends with the runner
(PR_SET_PDEATHSIG), and its children with it; if both the runner and the demo
process are killed at once, what they made is found by the demo's run record
(registry.py) and removed by the next demo that starts, or by `ipctop clean`.

Start a run from a thread that lives as long as the run (the main thread): the
kernel signals the demo process when the thread that started it exits.

The demo's processes tell each system call just before and just after they make it
(protocol CALL and RETURN); `CallLines` prints them in the order they happened, as
strace does: a call and its result on one line when nothing came between, else the
call as `<unfinished ...>` when it starts and `<... resumed>` when it returns.  So a
call that blocks is seen pending, and a read is never printed before the write that
it returned.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any

from ipctop.demos import catalog, proc, protocol, registry
from ipctop.demos.context import TEMP_PREFIX, posix_exists, still_ours, unlink_demo_posix
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError

Narrate = Callable[[str], None]
_POSIX = ("pshm", "psem", "pmsg")
StepGate = Callable[[], None]
PENDING_AFTER = 0.15  # seconds: a call not returned by then is printed as <unfinished ...> (it blocks)


@dataclass(frozen=True, slots=True)
class DemoStep:
    number: int
    total: int
    slug: str
    title: str

    @property
    def heading(self) -> str:
        return f"[{self.number}/{self.total}] {self.title}"


@dataclass(frozen=True, slots=True)
class MadeObjects:
    """What a demo made: process ids with their roles, IPC ids, keys and paths."""

    pids: MappingProxyType[int, str]
    shm: frozenset[int]
    msg: frozenset[int]
    sem: frozenset[int]
    keys: frozenset[int]
    paths: frozenset[str]
    posix: frozenset[tuple[str, str]] = frozenset()  # (pshm|psem|pmsg, /name)

    def __bool__(self) -> bool:
        return bool(self.pids or self.shm or self.msg or self.sem or self.paths or self.posix)

    def posix_names(self, kind: str) -> frozenset[str]:
        return frozenset(name for k, name in self.posix if k == kind)

    def pid_of(self, role: str) -> int:
        """The process that plays `role` (the latest made, if several did)."""
        return [pid for pid, r in self.pids.items() if r == role][-1]


class CallLines:
    """The lines of the calls told with CALL and RETURN, in the order they happened, as strace prints them.

    A call is held until it returns, and then printed whole; if another line comes first, or it has
    not returned after PENDING_AFTER, it is printed as `write(4, "y", 1 <unfinished ...>` and its
    return later as `<... write resumed>) = 1`.  A process that ends inside a call (killed by a
    signal) gets `<... write resumed>) = ?` and `+++ killed by SIGPIPE +++`."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.calls: dict[int, tuple[str, str]] = {}  # pid -> (role, call text) begun and not returned
        self.held: tuple[int, float] | None = None  # the call begun and not printed yet, since when

    def line(self, text: str) -> None:
        """Any other line (a note, a step, a call told after the fact): what is held is printed first."""
        self.flush()
        self.say(text)

    def call(self, pid: int, role: str, text: str) -> None:
        self.flush()
        self.calls[pid] = (role, text)
        self.held = (pid, time.monotonic())

    def returned(self, pid: int, result: str) -> None:
        begun = self.calls.pop(pid, None)
        if begun is None:
            return
        role, text = begun
        if self.held is not None and self.held[0] == pid:
            self.held = None
            self.say(f"  {role} {pid}: {text} = {result}")
            return
        self.flush()
        self.say(f"  {role} {pid}: {resumed(text)} = {result}")

    def ended(self, pid: int, status: int | None) -> None:
        """Process `pid` ended (or was reaped): a call it was in never returned."""
        if pid not in self.calls:
            return
        self.flush(pid)
        role, text = self.calls.pop(pid)
        self.say(f"  {role} {pid}: {resumed(text)} = ?")
        if status is not None and os.WIFSIGNALED(status):
            self.say(f"  {role} {pid}: +++ killed by {signal.Signals(os.WTERMSIG(status)).name} +++")
        elif status is not None:
            self.say(f"  {role} {pid}: +++ exited with {os.WEXITSTATUS(status)} +++")

    def flush(self, pid: int | None = None) -> None:
        """Print the held call as <unfinished ...> (only if it is `pid`'s, when given)."""
        if self.held is None or (pid is not None and self.held[0] != pid):
            return
        held_pid = self.held[0]
        self.held = None
        role, text = self.calls[held_pid]
        self.say(f"  {role} {held_pid}: {unfinished(text)}")

    def tick(self) -> None:
        """Time passed with nothing to read: a call held that long blocks; show it pending."""
        if self.held is not None and time.monotonic() - self.held[1] >= PENDING_AFTER:
            self.flush()


def unfinished(text: str) -> str:
    """`write(4, "y", 1)` as strace prints it while it has not returned: `write(4, "y", 1 <unfinished ...>`."""
    return (text[:-1] if text.endswith(")") else text) + " <unfinished ...>"


def resumed(text: str) -> str:
    """How strace prints the return of a call printed unfinished: `<... write resumed>)`."""
    return f"<... {text.split('(', 1)[0]} resumed>" + (")" if text.endswith(")") else "")


class DemoRun:
    """One run of a demo.  `narrate(line)` and `step_gate()` are called from the
    run's reader thread; `step_gate` is called before each step and the demo waits
    until it returns.  Use it as a context manager, or call start() and then
    wait() or stop(); either way everything the demo made is removed."""

    def __init__(self, name: str, speed: float = 1.0, narrate: Narrate | None = None,
                 step_gate: StepGate | None = None) -> None:
        info = catalog.find(name)
        if info is None:
            raise ValueError(f"no demo is named {name!r}; the demos are: {', '.join(catalog.NAMES)}")
        if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
            raise ValueError(f"the speed must be a positive number, not {speed!r}")
        self.info = info
        self.speed = float(speed)
        self._narrate = narrate or (lambda _line: None)
        self._step_gate = step_gate
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._pids: dict[int, tuple[str, int | None]] = {}
        self._ipc: dict[tuple[str, int], int] = {}
        self._paths: list[str] = []
        self._posix: set[tuple[str, str]] = set()
        self._gone: set[tuple[str, Any]] = set()
        self._kept: dict[tuple[str, int], int] = {}
        self._results: dict[str, Any] = {}
        self._step: DemoStep | None = None
        self._outcome: str | None = None
        self._error: str | None = None
        self._callback_error: BaseException | None = None
        self._stop_requested = False
        self._finished_cleanup = False
        self._popen: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._stderr: Any = None
        self._reader: threading.Thread | None = None
        self._in_gate = False
        self._lines = CallLines(lambda text: self._call(self._narrate, text))
        self.started_at = 0.0
        self.ended_at = 0.0
        self.swept: tuple[str, ...] = ()  # what earlier, killed demos had left and this run's start removed

    # --- control -----------------------------------------------------------------

    def start(self) -> DemoRun:
        if self._popen is not None:
            raise RuntimeError("a DemoRun starts once")
        self.swept = tuple(registry.sweep())  # what demos killed before could not remove
        mine, theirs = protocol.socket_pair()
        mine.settimeout(PENDING_AFTER / 2)
        self._sock = mine
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the demo's stderr, closed in _finish
        command = [sys.executable, "-m", "ipctop.demos.worker", "--fd", str(theirs.fileno()),
                   "--parent", str(os.getpid()), "--speed", repr(self.speed)]
        if self._step_gate is not None:
            command.append("--gated")
        command.append(self.info.name)
        self.started_at = time.monotonic()
        try:
            self._popen = subprocess.Popen(
                command, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self._stderr, start_new_session=True, env=_child_environment(),
            )
        finally:
            theirs.close()
        with self._lock:
            self._pids[self._popen.pid] = (self.info.role, proc.start_time(self._popen.pid))
        self._reader = threading.Thread(target=self._read_loop, name=f"demo {self.info.name}", daemon=True)
        self._reader.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the demo (from any thread, any number of times) and remove what it made."""
        if self._popen is None:
            return
        with self._lock:
            self._stop_requested = True
        self._ask_to_stop()
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.wait()
        # Let the reader thread take the demo's last records, unless it is the caller or waits in the gate.
        if threading.current_thread() is not self._reader and not self._in_gate:
            self._done.wait(2.0)
        self._finish()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the end; True once ended.  Re-raises an exception a callback raised."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.wait(0.1):
            if deadline is not None and time.monotonic() > deadline:
                return False
        error, self._callback_error = self._callback_error, None
        if error is not None:
            raise error
        return True

    def __enter__(self) -> DemoRun:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        if kind is None:
            self.wait()

    # --- what it is doing and what it made -----------------------------------------

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def running(self) -> bool:
        return self._popen is not None and not self._done.is_set()

    @property
    def outcome(self) -> str | None:
        """None while it runs, then 'finished', 'stopped' or 'failed'."""
        return self._outcome

    @property
    def error(self) -> str | None:
        """Why it failed, in one sentence."""
        return self._error

    @property
    def current_step(self) -> DemoStep | None:
        """The step being taken, or about to be taken while the gate is called."""
        return self._step

    @property
    def results(self) -> dict[str, Any]:
        """Figures the demo measured (e.g. pipe_capacity, race_lost)."""
        with self._lock:
            return dict(self._results)

    @property
    def made(self) -> MadeObjects:
        """Everything this run has made so far, including what is gone since."""
        return self._objects(include_gone=True)

    @property
    def current(self) -> MadeObjects:
        """What this run made that still exists by its own account: for marking in panes."""
        return self._objects(include_gone=False)

    @property
    def kept(self) -> dict[tuple[str, int], int]:
        """(kind, id) -> key of objects left behind on purpose (shm-leak)."""
        with self._lock:
            return dict(self._kept)

    def _objects(self, include_gone: bool) -> MadeObjects:
        with self._lock:
            def keep(kind: str, ident: Any) -> bool:
                return include_gone or (kind, ident) not in self._gone

            ipc = {kind: frozenset(i for (k, i) in self._ipc if k == kind and keep(kind, i))
                   for kind in ("shm", "msg", "sem")}
            return MadeObjects(
                pids=MappingProxyType({pid: role for pid, (role, _) in self._pids.items() if keep("pid", pid)}),
                shm=ipc["shm"], msg=ipc["msg"], sem=ipc["sem"],
                keys=frozenset(key for (kind, i), key in self._ipc.items() if keep(kind, i)),
                paths=frozenset(p for p in self._paths if keep("path", p)),
                posix=frozenset(item for item in self._posix if keep(*item)),
            )

    def leftovers(self) -> list[str]:
        """What this run made that still exists, apart from what it kept on purpose."""
        with self._lock:
            pids = dict(self._pids)
            ipc = {k: v for k, v in self._ipc.items() if k not in self._kept}
            paths = list(self._paths)
        found = [f"process {pid} ({role})" for pid, (role, started) in pids.items()
                 if started is not None and proc.is_same_process(pid, started) and proc.state(pid) != "Z"]
        found += [f"{kind} {ident}" for (kind, ident), key in ipc.items() if still_ours(kind, ident, key)]
        found += [path for path in paths if os.path.lexists(path)]
        with self._lock:
            made_posix = sorted(self._posix)
        found += [f"{kind} {name}" for kind, name in made_posix if posix_exists(kind, name)]
        return found

    # --- the reader thread -----------------------------------------------------------

    def _read_loop(self) -> None:
        assert self._sock is not None and self._popen is not None
        try:
            while True:
                try:
                    record = self._sock.recv(protocol.MAX_RECORD)
                except TimeoutError:
                    if self._popen.poll() is not None:
                        self._drain()
                        break
                    self._lines.tick()
                    continue
                except OSError:
                    break
                if not record:
                    break
                self._handle(protocol.decode(record))
        finally:
            self._lines.flush()
            self._finish()

    def _drain(self) -> None:
        assert self._sock is not None
        self._sock.setblocking(False)
        with contextlib.suppress(OSError):
            while record := self._sock.recv(protocol.MAX_RECORD):
                self._handle(protocol.decode(record))

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["m"]
        if kind == protocol.LINE:
            self._lines.line(message["text"])
        elif kind == protocol.CALL:
            self._lines.call(message["pid"], message["role"], message["text"])
        elif kind == protocol.RETURN:
            self._lines.returned(message["pid"], message["result"])
        elif kind == protocol.EXIT:
            self._lines.ended(message["pid"], message["status"])
        elif kind == protocol.STEP:
            self._lines.flush()
            self._take_step(DemoStep(message["number"], message["total"], message["slug"], message["title"]))
        elif kind in (protocol.MADE, protocol.GONE, protocol.KEPT):
            if kind == protocol.GONE and message["what"] == "pid":
                self._lines.ended(message["pid"], message.get("status"))
            self._record(kind, message)
        elif kind == protocol.RESULT:
            with self._lock:
                self._results[message["name"]] = message["value"]
        elif kind == protocol.END:
            with self._lock:
                self._outcome = "stopped" if self._stop_requested and message["outcome"] != "finished" \
                    else message["outcome"]
                self._error = message.get("error")

    def _take_step(self, step: DemoStep) -> None:
        self._step = step
        if self._step_gate is not None:
            self._in_gate = True
            try:
                self._call(self._step_gate)
            finally:
                self._in_gate = False
            if self._stop_requested:
                return
            self._call(self._narrate, step.heading)
            with contextlib.suppress(OSError):
                assert self._sock is not None
                protocol.send(self._sock, protocol.GO)
        else:
            self._call(self._narrate, step.heading)

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        """Run a caller's callback; if it raises, stop the demo and keep the error for wait()."""
        try:
            callback(*args)
        except BaseException as error:  # noqa: BLE001 - handed back to the caller by wait()
            if self._callback_error is None:
                self._callback_error = error
            with self._lock:
                self._stop_requested = True
            self._ask_to_stop()

    def _record(self, kind: str, message: dict[str, Any]) -> None:
        what = message["what"]
        ident = message.get("pid") if what == "pid" else message.get("path") if what == "path" else \
            message["name"] if what in _POSIX else message["id"]
        with self._lock:
            if kind == protocol.MADE:
                if what == "pid":
                    self._pids[ident] = (message["role"], message.get("start"))
                elif what == "path":
                    self._paths.append(ident)
                elif what in _POSIX:
                    self._posix.add((what, ident))
                else:
                    self._ipc[(what, ident)] = message["key"]
            elif kind == protocol.GONE:
                self._gone.add((what, ident))
            else:
                self._kept[(what, ident)] = message["key"]

    # --- the end ---------------------------------------------------------------------

    def _ask_to_stop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                protocol.send(self._sock, protocol.STOP)
        if self._popen is not None and self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._popen.send_signal(signal.SIGTERM)

    def _finish(self) -> None:
        """Once the demo process has ended: remove whatever it could not, and mark the run done."""
        assert self._popen is not None
        with self._lock:
            if self._finished_cleanup:
                return
            self._finished_cleanup = True
        try:
            self._popen.wait(10)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.wait()
        self._gone.add(("pid", self._popen.pid))
        self._remove_leftovers()
        with contextlib.suppress(OSError):
            registry.sweep()  # the record of a demo process that was killed, and anything it still lists
        if self._outcome is None:
            self._outcome = "stopped" if self._stop_requested else "failed"
            if not self._stop_requested:
                self._error = self._worker_error()
        self.ended_at = time.monotonic()
        if self._sock is not None:
            self._sock.close()
        if self._stderr is not None:
            self._stderr.close()
        self._done.set()

    def _remove_leftovers(self) -> None:
        with self._lock:
            pids = dict(self._pids)
            ipc = {k: v for k, v in self._ipc.items() if k not in self._kept}
            paths = list(self._paths)
        killed = []
        for pid, (_role, started) in pids.items():
            if started is not None and proc.is_same_process(pid, started) and proc.state(pid) != "Z":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    killed.append((pid, started))
        # An orphan's attachments and pipe ends go only once it has really exited.
        deadline = time.monotonic() + 5
        while killed and time.monotonic() < deadline:
            killed = [(pid, started) for pid, started in killed
                      if proc.is_same_process(pid, started) and proc.state(pid) != "Z"]
            time.sleep(0.01)
        for (kind, ident), key in ipc.items():
            if still_ours(kind, ident, key):
                with contextlib.suppress(IpcError):
                    {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind](ident)
        with self._lock:
            made_posix = [item for item in self._posix if item not in self._gone]
        for kind, name in made_posix:
            unlink_demo_posix(kind, name)
        for path in reversed(paths):
            if os.path.basename(os.path.dirname(path)).startswith(TEMP_PREFIX) or os.path.basename(path).startswith(
                TEMP_PREFIX
            ):
                with contextlib.suppress(FileNotFoundError):
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path)
                    else:
                        os.unlink(path)
        with self._lock:
            self._gone.update(("pid", pid) for pid in pids)
            self._gone.update(ipc)
            self._gone.update(("path", path) for path in paths)
            self._gone.update(made_posix)

    def _worker_error(self) -> str:
        if self._stderr is None:
            return "the demo process ended without a word"
        self._stderr.seek(0)
        lines = [line for line in self._stderr.read().decode(errors="replace").splitlines() if line.strip()]
        code = self._popen.returncode if self._popen else None
        if lines:
            return f"the demo process failed: {lines[-1].strip()}"
        return f"the demo process ended with status {code} before the end of the demo"


def _child_environment() -> dict[str, str]:
    """The caller's environment, with ipctop importable however the caller found it."""
    import ipctop

    root = os.path.dirname(os.path.dirname(os.path.abspath(ipctop.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env
