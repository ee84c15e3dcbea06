"""What a demo script uses inside its own process: narration, steps, pauses,
forked children, and the record of every object it makes so that it can
remove all of them however it ends.

The demo process is the "parent" (or "server") of the lesson.  Its children
are forked from it and run a function; they get a `ChildContext` to narrate.
Parent and children synchronise without extra IPC objects that would show up
in the monitor: the parent pokes a child with SIGUSR1 (the child waits in
sigwait), a child acknowledges with SIGRTMIN (queued, so no ack is lost), and
otherwise the parent waits for what the kernel shows (nattch, wchan, qnum).
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import select
import shutil
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ipctop.demos import ccalls, proc, protocol
from ipctop.demos.registry import PREFIX, RunRecord, fresh_path
from ipctop.demos.syscalls import die_with_parent, set_process_name
from ipctop.kernel import posix, sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import DEMO_KEYS, POSIX_DEMO_PREFIX, posix_name

T = TypeVar("T")

POKE = signal.SIGUSR1
START = signal.SIGUSR2  # a new child waits for it, so that the parent's fork() line is told first
ACK = signal.SIGRTMIN
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
LOOK_SECONDS = 1.5  # between steps, at speed 1, so that the audience can look
TEMP_PREFIX = PREFIX


class DemoStopped(Exception):
    """The runner asked the demo to stop, went away, or a signal came."""


class DemoFailure(Exception):
    """Something the demo counts on did not happen; str() is one sentence."""


class Narrator:
    """Narration shared by the demo process and its children."""

    def __init__(self, sock: socket.socket, role: str, speed: float) -> None:
        self.sock = sock
        self.role = role
        self.speed = speed
        self.pid = os.getpid()

    def send(self, kind: str, **fields: Any) -> None:
        protocol.send(self.sock, kind, **fields)

    def call(self, text: str, result: object = None) -> None:
        """One C call this process made, and its result, told after the fact (a call no other process
        can be waiting on or waking: for those, `begin` and `end` around it)."""
        line = f"  {self.role} {self.pid}: {text}"
        self.send(protocol.LINE, text=line if result is None else f"{line} = {result}")

    def begin(self, text: str) -> None:
        """A system call this process is about to make.  The runner prints it with its result when
        `end` comes, or, if another process speaks first or it does not return at once (it blocks),
        as `<unfinished ...>` now and `<... resumed>` later, as strace does."""
        self.send(protocol.CALL, pid=self.pid, role=self.role, text=text)

    def end(self, result: object) -> None:
        """What the call told by `begin` returned."""
        self.send(protocol.RETURN, pid=self.pid, result=str(result))

    def around(self, text: str, call: Callable[[], T], result: Callable[[T], object] = str) -> T:
        """Make `call` told as `text` with `begin` and `end` (its result as `result(value)`); a call that
        fails with an errno is told as -1 ERRNO and raises on."""
        self.begin(text)
        try:
            value = call()
        except (OSError, IpcError) as error:
            self.end(ccalls.failure(error.errno or errno.EINVAL))
            raise
        self.end(result(value))
        return value

    def result(self, name: str, value: int | str | float) -> None:
        """A measured figure, for the runner's `results`."""
        self.send(protocol.RESULT, name=name, value=value)

    def note(self, text: str) -> None:
        """What to look at, or why it happened."""
        self.send(protocol.LINE, text=f"  # {text}")

    # The calls below make the system call and narrate it, strace-style.

    def pipe(self) -> tuple[int, int]:
        read_end, write_end = os.pipe()
        self.call(f"pipe([{read_end}, {write_end}])", 0)
        return read_end, write_end

    def close(self, fd: int) -> None:
        self.around(f"close({fd})", lambda: os.close(fd), lambda _none: 0)  # a last writer's close wakes a reader

    def write(self, fd: int, data: bytes, quiet: bool = False) -> int:
        """write(); returns the count, or -errno for EAGAIN and EPIPE (which it narrates)."""
        text = f"write({fd}, {ccalls.cstr(data)}, {len(data)})"
        if quiet:  # told only when it fails
            try:
                return os.write(fd, data)
            except (BlockingIOError, BrokenPipeError) as error:
                self.call(text, ccalls.failure(error.errno))
                return -error.errno
        try:
            return self.around(text, lambda: os.write(fd, data))
        except (BlockingIOError, BrokenPipeError) as error:
            return -error.errno

    def read(self, fd: int, size: int = 64) -> bytes | None:
        """read(); the bytes (b"" at end of file), or None for EAGAIN."""
        try:
            return self.around(f"read({fd}, buf, {size})", lambda: os.read(fd, size), ccalls.read_result)
        except BlockingIOError:
            return None

    def open(self, path: str, flags: int) -> int:
        """open(); the fd, or -errno for ENXIO (which it narrates)."""
        try:
            return self.around(f"open({ccalls.cstr(path.encode(), 64)}, {ccalls.open_flags(flags)})",
                               lambda: os.open(path, flags))  # fmt: skip
        except OSError as error:
            if error.errno != errno.ENXIO:
                raise
            return -error.errno


class ChildContext(Narrator):
    """A forked child's side: narrate, wait to be poked, acknowledge, pause."""

    def __init__(self, sock: socket.socket, role: str, speed: float, parent: int) -> None:
        super().__init__(sock, role, speed)
        self.parent = parent

    def wait_poke(self) -> None:
        signal.sigwait({POKE})

    def ack(self) -> None:
        # Never signal a process we did not make: if the parent is gone, so is the demo.
        if os.getppid() == self.parent:
            os.kill(self.parent, ACK)

    def pause(self, seconds: float) -> None:
        time.sleep(seconds / self.speed)


class DemoContext(Narrator):
    """The demo process's side.  Every object it makes is written to its run record
    (registry.py) before it is made, reported to the runner (protocol MADE) before
    anything else can happen, and removed by `cleanup`."""

    def __init__(self, sock: socket.socket, role: str, speed: float, gated: bool, total_steps: int,
                 record: RunRecord | None = None) -> None:
        super().__init__(sock, role, speed)
        self.record = record
        self.gated = gated
        self.total_steps = total_steps
        self.steps_taken = 0
        self.stopping = False
        self._children: dict[int, str] = {}
        self._ever_children: set[int] = set()
        self._reserved_keys: set[int] = set()
        self._ipc: dict[tuple[str, int], int] = {}
        self._kept: set[tuple[str, int]] = set()
        self._posix: set[tuple[str, str]] = set()  # (pshm|psem|pmsg, /name)
        self._paths: list[str] = []
        self._acks: Counter[int] = Counter()
        self._rng = random.Random()

    # --- narration and pacing ------------------------------------------------

    def send(self, kind: str, **fields: Any) -> None:
        try:
            super().send(kind, **fields)
        except OSError:
            if not self.stopping:
                self.stopping = True
                raise DemoStopped("the runner went away") from None

    def step(self, slug: str, title: str) -> None:
        """Begin the next step: pause to let the audience look, or wait for the gate."""
        if self.steps_taken and not self.gated:
            self.pause(LOOK_SECONDS)
        self.steps_taken += 1
        self.send(protocol.STEP, number=self.steps_taken, total=self.total_steps, slug=slug, title=title)
        if self.gated:
            while not self._check_channel(None):
                pass

    def pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds / self.speed
        while (left := deadline - time.monotonic()) > 0:
            self._check_channel(left)

    def _check_channel(self, timeout: float | None) -> bool:
        """Wait up to `timeout` for the runner; True on `go`.  Raises DemoStopped on stop or EOF."""
        readable, _, _ = select.select([self.sock], [], [], timeout)
        if not readable:
            return False
        try:
            record = self.sock.recv(protocol.MAX_RECORD)
        except OSError:
            record = b""
        kind = protocol.decode(record).get("m") if record else protocol.STOP
        if kind == protocol.STOP:
            self.stopping = True
            raise DemoStopped("the runner asked to stop")
        return kind == protocol.GO

    @property
    def patience(self) -> float:
        """How long to wait for a child before calling the demo failed."""
        return 10.0 / min(self.speed, 1.0)

    def wait_until(self, predicate: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + self.patience
        while not (value := predicate()):
            if time.monotonic() > deadline:
                raise DemoFailure(f"{what} did not happen within {self.patience:.0f} s")
            self._check_channel(0.01)
        return value

    # --- children --------------------------------------------------------------

    @contextlib.contextmanager
    def _signals_held(self) -> Iterator[None]:
        """Hold stop signals while something is made and recorded, so none escapes the record."""
        old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def fork(self, role: str, body: Callable[[ChildContext], int | None]) -> int:
        """fork(), told; the child runs `body` and exits with its return value (0 for None)."""
        with self._signals_held():
            pid = os.fork()
            if pid == 0:
                self._become_child(role, body)
            self._children[pid] = role
            self._ever_children.add(pid)
            self.send(protocol.MADE, what="pid", pid=pid, start=proc.start_time(pid), role=role)
        self.call("fork()", pid)
        os.kill(pid, START)
        return pid

    def _become_child(self, role: str, body: Callable[[ChildContext], int | None]) -> None:
        code = 1
        try:
            for number in (*STOP_SIGNALS, signal.SIGPIPE):  # like a C program: default dispositions
                signal.signal(number, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            die_with_parent(self.pid, signal.SIGKILL)  # a child never outlives the demo process
            set_process_name(role)
            child = ChildContext(self.sock, role, self.speed, parent=self.pid)
            signal.sigwait({START})
            result = body(child)
            code = result if isinstance(result, int) else 0
        except BaseException as error:  # noqa: BLE001 - a child must never return into the parent's code
            with contextlib.suppress(Exception):
                protocol.send(self.sock, protocol.LINE, text=f"  {role} {os.getpid()}: failed: {error}")
        finally:
            os._exit(code)

    def poke(self, pid: int) -> None:
        os.kill(pid, POKE)

    def wait_ack(self, pid: int) -> None:
        """Wait until child `pid` acknowledges (ChildContext.ack)."""
        deadline = time.monotonic() + self.patience
        while not self._acks[pid]:
            info = signal.sigtimedwait({ACK}, 0.05)
            if info is not None:
                self._acks[info.si_pid] += 1
                continue
            self._check_channel(0)
            if proc.state(pid) in ("Z", ""):
                raise DemoFailure(f"the {self._children.get(pid, 'child')} {pid} ended before it answered")
            if time.monotonic() > deadline:
                raise DemoFailure(f"the {self._children.get(pid, 'child')} {pid} did not answer")
        self._acks[pid] -= 1

    def wait_exit(self, pid: int) -> None:
        """Wait until child `pid` has ended, without reaping it (waitid WNOWAIT); the runner hears how
        it ended (a call it died in is then printed as strace does: `+++ killed by SIGPIPE +++`)."""
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        if info is not None:
            status = info.si_status << 8 if info.si_code == os.CLD_EXITED else info.si_status
            self.send(protocol.EXIT, pid=pid, status=status)

    def reap(self, pid: int) -> int:
        """waitpid(): the child's wait status; the pid is forgotten only once reaped."""
        self.wait_exit(pid)
        with self._signals_held():
            _, status = os.waitpid(pid, 0)
            role = self._children.pop(pid)
            self.send(protocol.GONE, what="pid", pid=pid, role=role, status=status)
        return status

    def reap_and_tell(self, pid: int) -> int:
        status = self.reap(pid)
        self.call(f"waitpid({pid}, &status, 0)", f"{pid}; {ccalls.wait_status(status)}")
        return status

    # --- IPC objects -----------------------------------------------------------

    def _free_demo_key(self) -> int:
        used = set()
        for kind in ("shm", "msg", "sem"):
            with open(f"/proc/sysvipc/{kind}") as f:
                used |= {int(line.split()[0]) & 0xFFFFFFFF for line in f.readlines()[1:] if line.strip()}
        while True:
            key = self._rng.choice(DEMO_KEYS)
            if key not in used:
                return key

    def _create(self, kind: str, make: Callable[[int], int], describe: Callable[[int], str], key: int | None) -> int:
        """Create with IPC_CREAT|IPC_EXCL under a fresh demo key (or `key`), never opening an existing object."""
        for _ in range(100):
            chosen = key if key is not None else self._free_demo_key()
            with self._signals_held():
                if self.record is not None:
                    self.record.key(kind, chosen)
                try:
                    ident = make(chosen)
                except IpcError as error:
                    if error.errno != errno.EEXIST:
                        raise
                    self.call(describe(chosen), ccalls.failure(error.errno))
                    if key is not None:
                        raise
                    self.note("EEXIST: an object with that key exists; IPC_EXCL leaves it alone: try another key")
                    continue
                self._ipc[(kind, ident)] = chosen
                self.send(protocol.MADE, what=kind, id=ident, key=chosen)
            self.call(describe(chosen), ident)
            return ident
        raise DemoFailure("no free key was found in ipctop's demo range")

    def create_shm(self, size: int, mode: int, key: int | None = None) -> tuple[int, int]:
        flags = sysv.IPC_CREAT | sysv.IPC_EXCL | mode
        shmid = self._create("shm", lambda k: sysv.shmget(k, size, flags),
                             lambda k: f"shmget({ccalls.key(k)}, {size}, {ccalls.ipc_flags(flags)})", key)
        return shmid, self._ipc[("shm", shmid)]

    def create_msg(self, mode: int) -> tuple[int, int]:
        flags = sysv.IPC_CREAT | sysv.IPC_EXCL | mode
        msqid = self._create("msg", lambda k: sysv.msgget(k, flags),
                             lambda k: f"msgget({ccalls.key(k)}, {ccalls.ipc_flags(flags)})", None)
        return msqid, self._ipc[("msg", msqid)]

    def create_sem(self, nsems: int, mode: int) -> tuple[int, int]:
        flags = sysv.IPC_CREAT | sysv.IPC_EXCL | mode
        semid = self._create("sem", lambda k: sysv.semget(k, nsems, flags),
                             lambda k: f"semget({ccalls.key(k)}, {nsems}, {ccalls.ipc_flags(flags)})", None)
        return semid, self._ipc[("sem", semid)]

    def reserve_key(self) -> int:
        """A free demo key for a child to create an object with; cleanup removes a segment a
        child of this demo made with it, even one the demo never heard of."""
        key = self._free_demo_key()
        if self.record is not None:
            self.record.key("shm", key)
        self._reserved_keys.add(key)
        return key

    def adopt(self, kind: str, ident: int, key: int) -> None:
        """An object a child made: the demo is responsible for it from now on."""
        with self._signals_held():
            self._ipc[(kind, ident)] = key
            self.send(protocol.MADE, what=kind, id=ident, key=key)

    def forget(self, kind: str, ident: int) -> None:
        """The object is gone (removed, or destroyed by the kernel): no longer the demo's to clean."""
        if self._ipc.pop((kind, ident), None) is not None:
            self.send(protocol.GONE, what=kind, id=ident)

    def remove(self, kind: str, ident: int) -> None:
        """IPC_RMID, narrated; a segment still attached stays (dest) until forget() is called."""
        call = {"shm": "shmctl({}, IPC_RMID, NULL)", "msg": "msgctl({}, IPC_RMID, NULL)",
                "sem": "semctl({}, 0, IPC_RMID)"}[kind].format(ident)
        remove = {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind]
        self.around(call, lambda: remove(ident), lambda _none: 0)  # it wakes whoever waits on the object
        if kind != "shm" or not _shm_exists(ident):
            self.forget(kind, ident)

    def keep(self, kind: str, ident: int) -> None:
        """Leave this object behind on purpose (shm-leak): cleanup will not remove it."""
        self._kept.add((kind, ident))
        if self.record is not None:
            self.record.kept(kind, self._ipc[(kind, ident)])
        self.send(protocol.KEPT, what=kind, id=ident, key=self._ipc[(kind, ident)])

    # --- POSIX objects -------------------------------------------------------------

    def create_posix(self, kind: str, make: Callable[[str], Any], describe: Callable[[str], str],
                     result: Callable[[Any], object] = lambda made: made) -> tuple[Any, str]:
        """Make a POSIX object (pshm, psem, pmsg) with O_CREAT|O_EXCL under a fresh name of ipctop's demo
        range, recorded before anything else can happen; `make(name)` returns what the call returned."""
        for _ in range(100):
            name = "/" + posix_name(POSIX_DEMO_PREFIX)
            with self._signals_held():
                try:
                    made = make(name)
                except IpcError as error:
                    if error.errno != errno.EEXIST:
                        raise
                    continue  # a random name taken: another is drawn
                self._posix.add((kind, name))
                self.send(protocol.MADE, what=kind, name=name)
            self.call(describe(name), result(made))
            return made, name
        raise DemoFailure("no free name was found in ipctop's demo range")

    def unlink_posix(self, kind: str, name: str) -> None:
        """shm_unlink, sem_unlink or mq_unlink, narrated; the name is no longer the demo's to clean."""
        call = {"pshm": "shm_unlink", "psem": "sem_unlink", "pmsg": "mq_unlink"}[kind]
        _POSIX_UNLINK[kind](name)
        self.call(f"{call}({ccalls.cstr(name.encode(), 64)})", 0)
        self._posix.discard((kind, name))
        self.send(protocol.GONE, what=kind, name=name)

    # --- files -------------------------------------------------------------------

    def make_temp_dir(self) -> str:
        """mkdtemp("/tmp/ipctop-demo-XXXXXXXX"), with its name recorded before it is made."""
        with self._signals_held():
            while True:
                path = fresh_path(TEMP_PREFIX)
                if self.record is not None:
                    self.record.path(path)
                try:
                    os.mkdir(path, 0o700)
                    break
                except FileExistsError:
                    continue
            self._paths.append(path)
            self.send(protocol.MADE, what="path", path=path)
        return path

    def track_path(self, path: str) -> None:
        """A file the demo is about to make (mkfifo, open O_CREAT): record it and tell the runner first."""
        if self.record is not None:
            self.record.path(path)
        self._paths.append(path)
        self.send(protocol.MADE, what="path", path=path)

    def forget_path(self, path: str) -> None:
        if path in self._paths:
            self._paths.remove(path)
            self.send(protocol.GONE, what="path", path=path)

    # --- the end -----------------------------------------------------------------

    def cleanup(self) -> list[str]:
        """Remove every process, object and file the demo made and still has; return what was removed."""
        removed = []
        for pid in list(self._children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # our unreaped child: the pid cannot name another process
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            removed.append(f"process {pid} ({self._children.pop(pid)})")
            self._quiet_send(protocol.GONE, what="pid", pid=pid)
        for shmid, key, creator in _segments_with_keys(self._reserved_keys):
            if creator in self._ever_children and ("shm", shmid) not in self._ipc:
                self._ipc[("shm", shmid)] = key
        for (kind, ident), key in list(self._ipc.items()):
            if (kind, ident) in self._kept:
                continue
            if still_ours(kind, ident, key):
                with contextlib.suppress(IpcError):
                    {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind](ident)
                    removed.append(f"{kind} {ident}")
            del self._ipc[(kind, ident)]
            self._quiet_send(protocol.GONE, what=kind, id=ident)
        for kind, name in sorted(self._posix):
            if unlink_demo_posix(kind, name):
                removed.append(f"{kind} {name}")
            self._quiet_send(protocol.GONE, what=kind, name=name)
        self._posix.clear()
        for path in reversed(self._paths):
            with contextlib.suppress(FileNotFoundError):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                removed.append(path)
            self._quiet_send(protocol.GONE, what="path", path=path)
        self._paths.clear()
        return removed

    def _quiet_send(self, kind: str, **fields: Any) -> None:
        with contextlib.suppress(OSError):
            protocol.send(self.sock, kind, **fields)


def _segments_with_keys(keys: set[int]) -> list[tuple[int, int, int]]:
    """(shmid, key, cpid) of the segments whose key is in `keys`, from /proc/sysvipc/shm."""
    if not keys:
        return []
    found = []
    with open("/proc/sysvipc/shm") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields and int(fields[0]) & 0xFFFFFFFF in keys:
                found.append((int(fields[1]), int(fields[0]) & 0xFFFFFFFF, int(fields[4])))
    return found


def _shm_exists(shmid: int) -> bool:
    try:
        sysv.shm_stat(shmid)
    except IpcError:
        return False
    return True


_POSIX_UNLINK = {"pshm": posix.shm_unlink, "psem": posix.sem_unlink, "pmsg": posix.mq_unlink}


def unlink_demo_posix(kind: str, name: str) -> bool:
    """Unlink a POSIX object a demo made (only ever a name of the demo range); True if it was there."""
    if not name.lstrip("/").startswith(POSIX_DEMO_PREFIX):
        return False
    try:
        _POSIX_UNLINK[kind](name)
    except IpcError:
        return False
    return True


def posix_exists(kind: str, name: str) -> bool:
    """Whether a POSIX object of that name exists (opening a queue read-only changes nothing)."""
    if kind == "pshm":
        return os.path.lexists(posix.shm_path(name))
    if kind == "psem":
        return os.path.lexists(posix.sem_path(name))
    try:
        os.close(posix.mq_open(name, os.O_RDONLY | os.O_NONBLOCK))
    except IpcError:
        return False
    return True


def still_ours(kind: str, ident: int, key: int) -> bool:
    """The id still names the object the demo made: same key (a segment marked dest reads 0)."""
    stat = {"shm": sysv.shm_stat, "msg": sysv.msg_stat, "sem": sysv.sem_stat}[kind]
    try:
        current = stat(ident).key
    except IpcError:
        return False
    return current == key or (kind == "shm" and current == 0)
