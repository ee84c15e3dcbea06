"""Process facts from /proc/PID: stat, cmdline, wchan, owner and IPC namespace."""

from __future__ import annotations

import os
import pwd
from functools import lru_cache
from typing import NamedTuple

from ipctop.collectors.procfs import Denied, Gone, ProcFS


class ProcessInfo(NamedTuple):  # tuples: cheaper to make than frozen dataclasses, a thousand a scan
    pid: int
    ppid: int
    comm: str
    cmdline: str
    uid: int
    user: str
    state: str
    wchan: str
    start_time: float
    ipc_ns: str


class StatFields(NamedTuple):
    comm: str
    state: str
    ppid: int
    start_ticks: int


def parse_stat(text: str) -> StatFields:
    """Parse /proc/PID/stat; the command name may hold spaces and parentheses."""
    open_paren = text.index("(")
    close_paren = text.rindex(")")
    comm = text[open_paren + 1 : close_paren]
    rest = text[close_paren + 2 :].split(None, 20)  # the fields up to starttime; the thirty after it are not needed
    # rest[0] is field 3 (state); starttime is field 22.
    return StatFields(comm, rest[0], int(rest[1]), int(rest[19]))


@lru_cache(maxsize=4096)
def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


@lru_cache(maxsize=4096)
def group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def boot_time(proc: ProcFS) -> float:
    try:
        for line in proc.read_text("stat").splitlines():
            if line.startswith("btime"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def read_comm(proc: ProcFS, pid: int) -> str:
    return parse_stat(proc.read_pid_text(pid, "stat")).comm


def read_ppid(proc: ProcFS, pid: int) -> int | None:
    """The parent's pid alone (it changes when the parent exits), or None when the process is gone."""
    try:
        return parse_stat(proc.read_pid_record(pid, "stat").decode("utf-8", "replace")).ppid
    except (Gone, Denied, ValueError, IndexError):
        return None


def read_cmdline(proc: ProcFS, pid: int) -> str:
    """Its command line, arguments joined by spaces; '' for a kernel thread, a zombie or one not readable."""
    try:
        return proc.read_pid_record(pid, "cmdline").rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    except (Gone, Denied):
        return ""


def read_process(proc: ProcFS, pid: int, btime: float, ipc_ns: str | None = None) -> ProcessInfo | None:
    """Everything about one process, or None when it is gone; `ipc_ns` when this scan has read it already."""
    try:
        fields = parse_stat(proc.read_pid_record(pid, "stat").decode("utf-8", "replace"))
        uid = os.stat(f"{proc.root}/{pid}").st_uid
    except (Gone, Denied, OSError, ValueError, IndexError):
        return None
    cmdline = read_cmdline(proc, pid)
    try:
        wchan = proc.read_pid_record(pid, "wchan").decode("utf-8", "replace").strip()
    except (Gone, Denied):
        wchan = ""
    if ipc_ns is None:
        try:
            ipc_ns = proc.readlink_pid(pid, "ns/ipc")
        except (Gone, Denied):
            ipc_ns = ""
    return ProcessInfo(  # positionally: faster than by keyword, and made by the thousand
        pid,
        fields.ppid,
        fields.comm,
        cmdline,
        uid,
        user_name(uid),
        fields.state,
        "" if wchan == "0" else wchan,
        btime + fields.start_ticks / CLOCK_TICKS,
        ipc_ns,
    )
