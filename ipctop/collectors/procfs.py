"""Where /proc is, and the one place where races and refusals become typed outcomes.

Processes vanish in the middle of a scan (FileNotFoundError, ProcessLookupError,
ESRCH) and an unprivileged reader is refused most of /proc/PID (PermissionError).
Neither is an error: `read_pid_file` and friends turn them into `Gone` / `Denied`
so that callers handle them in one way.  Also the parser of a mount table
(/proc/PID/mountinfo), which the POSIX scan and the process listing read.
"""

from __future__ import annotations

import errno
import os
import time
from typing import NamedTuple

from ipctop.frozen import Uncompared, frozen
from ipctop.kernel.procmap import shared_lines


class Gone(Exception):
    """The process exited while it was being read."""


class Denied(Exception):
    """The reader may not look at this part of the process."""


_READ_SIZE = 65536
_GONE_ERRNOS = {errno.ENOENT, errno.ESRCH, errno.ENOTDIR}
_DENIED_ERRNOS = {errno.EACCES, errno.EPERM}
PF_KTHREAD = 0x00200000  # /proc/PID/stat flags (the ninth field): a kernel thread
_INITIAL_PID_NS = "pid:[4026531836]"  # PROC_PID_INIT_INO, the same on every kernel
_HIDEPID_OFF = {"hidepid=0", "hidepid=off"}
CAP_SYS_PTRACE = 19
_HIDEPID_HIDES = {"2", "invisible", "4", "ptraceable"}  # other users' /proc/PID absent, not only refused


def classify(error: OSError) -> Exception:
    """Map an OSError from /proc/PID to Gone or Denied (or leave it as it is)."""
    if error.errno in _GONE_ERRNOS:
        return Gone(str(error))
    if error.errno in _DENIED_ERRNOS:
        return Denied(str(error))
    return error


class Mount(NamedTuple):
    mount_id: int
    dev: int
    point: str
    fstype: str
    options: tuple[str, ...] = ()  # the filesystem's own (super) options: `hidepid=invisible`, `size=65536k`


def parse_mountinfo(text: str) -> dict[int, Mount]:
    """mount id -> mount, from /proc/PID/mountinfo (`36 35 98:0 / /mnt rw - ext3 /dev/root rw`)."""
    mounts = {}
    for line in text.splitlines():
        fields = line.split()
        try:
            separator = fields.index("-")
            major, minor = fields[2].split(":")
            mount_id = int(fields[0])
            mounts[mount_id] = Mount(mount_id, os.makedev(int(major), int(minor)),
                                     _unescape(fields[4]), fields[separator + 1],
                                     tuple(fields[separator + 3].split(",")) if len(fields) > separator + 3 else ())
        except (ValueError, IndexError):
            continue
    return mounts


def _unescape(path: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    if "\\" not in path:
        return path
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def is_kernel_thread_stat(record: bytes) -> bool:
    """True when /proc/PID/stat `record` is a kernel thread's (PF_KTHREAD in its flags); False if unparsable."""
    try:
        return bool(int(record[record.rindex(b")") + 2 :].split(None, 7)[6]) & PF_KTHREAD)
    except (ValueError, IndexError):
        return False


class Abandoned(Exception):
    """The scan this reading belongs to was given up (it waited too long on one process)."""


class Progress:
    """Which process a scan is reading now, and since when: what the Scanner's watchdog looks at.

    A read of /proc/PID can wait in the kernel for good (a process stuck on a mount that does
    not answer holds locks its files need); the watchdog then gives the scan up and starts
    another that skips that process.  The given-up scan stops at its next `reading()`."""

    __slots__ = ("pid", "what", "since", "abandoned")

    def __init__(self) -> None:
        self.pid: int | None = None
        self.what = ""
        self.since = 0.0
        self.abandoned = False

    def reading(self, pid: int, what: str) -> None:
        if self.abandoned:
            raise Abandoned(pid)
        self.pid, self.what, self.since = pid, what, time.monotonic()

    def done(self) -> None:
        if self.abandoned:
            raise Abandoned(self.pid)
        self.pid = None


def _read_to_end(fd: int, chunks: list[bytes]) -> bytes:
    """`chunks` already read from `fd`, and the rest of it."""
    while chunk := os.read(fd, _READ_SIZE):
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@frozen
class ProcFS:
    """A procfs root; `/proc` unless a test points it at a fixture tree.

    `skip`: processes that are not to be read at all (the Scanner's stuck ones); `progress`:
    where a watched scan notes which process it reads (see Progress)."""

    root: str = "/proc"
    skip: frozenset[int] = Uncompared(frozenset())  # type: ignore[assignment]
    progress: Progress | None = Uncompared(None)  # type: ignore[assignment]

    def reading(self, pid: int, what: str) -> None:
        """Note that the scan now reads `what` of `pid` (for the watchdog); a no-op when unwatched."""
        if self.progress is not None:
            self.progress.reading(pid, what)

    @property
    def is_live(self) -> bool:
        """True for the real /proc, where system calls on the objects also work."""
        return self.root == "/proc"

    def path(self, *parts: str | int) -> str:
        # Plain joining: the parts are names under the root, never absolute, and a scan
        # builds thousands of these paths (os.path.join costs ten times more).
        return "/".join((self.root, *map(str, parts)))

    def read_text(self, *parts: str | int) -> str:
        """Read a system-wide file; missing files raise FileNotFoundError."""
        with open(self.path(*parts), encoding="utf-8", errors="replace") as f:
            return f.read()

    def read_int(self, *parts: str | int, default: int = 0) -> int:
        try:
            return int(self.read_text(*parts).split()[0])
        except (OSError, ValueError, IndexError):
            return default

    def process_links(self) -> int:
        """The link count of the root: a fixed number plus the machine's count of processes (threads
        not included), whose change is the cheapest sign that a process was forked or reaped."""
        return os.stat(self.root).st_nlink

    def shows_every_process(self) -> bool:
        """True when this is the live /proc of the initial pid namespace, read from that namespace
        and mounted without hidepid or subset: every process counted in `process_links` is listed."""
        if not self.is_live:
            return False
        try:
            if os.readlink(f"{self.root}/self/ns/pid") != _INITIAL_PID_NS or int(os.readlink(f"{self.root}/self")) \
                    != os.getpid():
                return False
        except (OSError, ValueError):
            return False
        return not any(option.startswith("subset=") or (option.startswith("hidepid=") and option not in _HIDEPID_OFF)
                       for options in self._mount_options() for option in options)

    def _mount_options(self) -> list[tuple[str, ...]]:
        """The options of each procfs mounted at this root, the one on top last (/proc/self/mountinfo);
        none where it cannot be read."""
        try:
            mounts = parse_mountinfo(self.read_text("self", "mountinfo")).values()
        except OSError:
            return []
        return [mount.options for mount in mounts if mount.point == self.root and mount.fstype == "proc"]

    def hidden_note(self) -> str:
        """What this /proc hides from the reader, in a sentence or two ('' for nothing):

        - mounted with `subset=pid` (systemd's ProcSubset=pid), it has no /proc/sysvipc: the System V
          tables cannot be read, whoever reads them, and would otherwise look empty;
        - mounted with `hidepid=invisible` (2) or `ptraceable` (4), other users' processes are absent
          for a reader who is not root, lacks CAP_SYS_PTRACE and is not in the mount's `gid=` group:
          not refused, so no count of them can be given."""
        if not self.is_live:
            return ""
        options = (self._mount_options() or [()])[-1]  # the procfs on top is the one read
        notes = []
        if "subset=pid" in options:
            notes.append("/proc is mounted with subset=pid: it has no /proc/sysvipc, so System V objects are not "
                         "shown.")
        hiding = next((o.split("=", 1)[1] for o in options if o.split("=", 1)[0] == "hidepid"), "")
        exempt = next((o.split("=", 1)[1] for o in options if o.startswith("gid=")), "")
        if hiding in _HIDEPID_HIDES and os.geteuid() != 0 and not self._may_trace() and not (
                exempt.isdigit() and int(exempt) in {os.getegid(), *os.getgroups()}):
            group = f" or as a member of group {exempt} (the mount's gid=)" if exempt.isdigit() else ""
            notes.append(f"/proc is mounted with hidepid={hiding}: other users' processes are hidden from this "
                         f"user; what they hold is not shown. Run as root{group} to see them.")
        return " ".join(notes)

    def _may_trace(self) -> bool:
        """Whether the reader has CAP_SYS_PTRACE, which hidepid does not hide processes from (a monitoring
        agent given it, as deploy/systemd's exporter is)."""
        try:
            status = self.read_text("self", "status")
        except OSError:
            return False
        effective = next((line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")), "0")
        return bool(int(effective, 16) >> CAP_SYS_PTRACE & 1)

    def done(self) -> None:
        """Note that the scan reads no process now (for the watchdog)."""
        if self.progress is not None:
            self.progress.done()

    def pids(self) -> list[int]:
        """The processes listed in the root, in its order, less `skip`."""
        pids = [int(name) for name in os.listdir(self.root) if name.isdigit()]
        return [pid for pid in pids if pid not in self.skip] if self.skip else pids

    def _open_pid(self, pid: int, name: str) -> int:
        """An fd of /proc/PID/NAME, raising Gone or Denied for the normal races."""
        if pid in self.skip:
            raise Gone(pid)
        # os.open/os.read rather than open(): a buffered file object costs four more
        # system calls per file (fstat, ioctl, lseek, fstat), and a scan reads thousands.
        try:
            return os.open(f"{self.root}/{pid}/{name}", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            raise classify(error) from None

    def read_pid_bytes(self, pid: int, name: str) -> bytes:
        """Read /proc/PID/NAME, raising Gone or Denied for the normal races."""
        fd = self._open_pid(pid, name)
        try:
            return _read_to_end(fd, [])
        except OSError as error:
            raise classify(error) from None
        finally:
            os.close(fd)

    def read_shared_maps(self, pid: int) -> bytes:
        """The lines of /proc/PID/maps that can be IPC (its shared mappings; kernel/procmap.py), or
        the whole text where the kernel or the tree cannot be asked for those alone.  Gone or Denied
        as read_pid_bytes raises them."""
        fd = self._open_pid(pid, "maps")
        try:
            lines = shared_lines(fd) if self.is_live else None
            # None: not asked (a fixture tree) or not answered (before 6.11, or refused): the text
            return _read_to_end(fd, []) if lines is None else lines
        except OSError as error:
            raise classify(error) from None
        finally:
            os.close(fd)

    def is_kernel_thread(self, pid: int) -> bool:
        """True for a kernel thread (its stat, which everyone may read, says so): it has no fds, no
        program's memory and no system call of its own, so it holds and waits on nothing. An unprivileged
        reader is refused its fd directory and its system call all the same, which say nothing then."""
        try:
            return is_kernel_thread_stat(self.read_pid_record(pid, "stat"))
        except (Gone, Denied):
            return False

    def read_pid_record(self, pid: int, name: str) -> bytes:
        """Read a file the kernel prints as one record (stat, cmdline, wchan, children).

        One read() of such a file returns all of it up to the buffer size, so a short
        read is the end and the read that would return end-of-file is saved.  Not for
        files of many records (maps), where a short read can come before the end.
        """
        fd = self._open_pid(pid, name)
        try:
            data = os.read(fd, _READ_SIZE)
            return _read_to_end(fd, [data]) if len(data) == _READ_SIZE else data
        except OSError as error:
            raise classify(error) from None
        finally:
            os.close(fd)

    def read_pid_text(self, pid: int, name: str) -> str:
        return self.read_pid_bytes(pid, name).decode("utf-8", "replace")

    def readlink_pid(self, pid: int, name: str) -> str:
        if pid in self.skip:
            raise Gone(pid)
        try:
            return os.readlink(f"{self.root}/{pid}/{name}")
        except OSError as error:
            raise classify(error) from None
