"""A naive full scan, the reference that the optimized snapshot must equal.

It reads everything the plain way: every fd of every process (readlink, stat and
fdinfo), every maps file of every process, the system call of every thread of every
process (its arguments' memory through /proc/PID/mem), and every fact of every
process that holds, last used or waits on something.  Of the waits it knows the
kinds a benchmark world has (semop, msgrcv/msgsnd, read/write on a pipe); a poll,
select, epoll or FIFO open in a world process would show as a difference.  It
shares no collector code with ipctop, only the model, so that an optimization
that loses something shows up as a difference.
`compare` lists the differences between two snapshots over one world's objects.
`naive_namespaces` reads the other IPC namespaces of some processes the plain way
too (a thread that joins each with setns, and every maps file of its processes),
and `compare_namespaces` compares a snapshot's with it.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import pwd
import select
import stat
import struct
import termios
import threading
import time
from collections.abc import Iterable

from ipctop.frozen import replace
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import POSIX_BENCH_PREFIX
from ipctop.model import (
    Attacher,
    Fifo,
    HeldObject,
    HeldPipeEnd,
    Limits,
    MsgQueue,
    Pipe,
    PipeEnd,
    Process,
    SemSet,
    ShmSegment,
    Snapshot,
    Uninspectable,
    Wait,
)

TICKS = os.sysconf("SC_CLK_TCK")


def _table(kind: str) -> list[dict[str, int]]:
    with open(f"/proc/sysvipc/{kind}") as f:
        lines = f.read().splitlines()
    header = lines[0].split()
    rows = []
    for line in lines[1:]:
        values = line.split()
        if len(values) >= len(header):
            row = {name: int(value) for name, value in zip(header, values, strict=False) if name != "perms"}
            row["perms"] = int(values[header.index("perms")], 8)
            row["key"] &= 0xFFFFFFFF
            rows.append(row)
    return rows


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _mode(pid: int, fd: str) -> str:
    try:
        text = _read(f"/proc/{pid}/fdinfo/{fd}").decode()
    except OSError:
        return "rw"
    for line in text.splitlines():
        if line.startswith("flags:"):
            return {0: "r", 1: "w"}.get(int(line.split()[1], 8) & 3, "rw")
    return "rw"


_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _duplicate(pid: int, fd: int) -> int | None:
    """A duplicate of the holder's own open file (pidfd_getfd, 438): no new open; None where refused."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        handle = _libc.syscall(438, pidfd, fd, 0)
    finally:
        os.close(pidfd)
    return handle if handle >= 0 else None


def _fill(ends: Iterable[tuple[int, int, str]]) -> tuple[int | None, int | None]:
    for pid, fd, _ in ends:
        handle = _duplicate(pid, fd)
        if handle is None:
            continue
        try:
            capacity = fcntl.fcntl(handle, 1032)
            waiting = struct.unpack("i", fcntl.ioctl(handle, termios.FIONREAD, b"\0\0\0\0"))[0]
            return waiting, capacity
        except OSError:
            return None, None
        finally:
            os.close(handle)
    return None, None


def _unseen(ends: list[tuple[int, int, str]], named: bool, complete: bool) -> str:
    """Pipe.unseen, asked as plainly: one kind of end seen, poll() a duplicate of it for POLLERR (no reader)
    or POLLHUP (no writer); "?" where none could be duplicated (or a FIFO reader got no POLLHUP) and a
    process's fds could not be read."""
    modes = {m for _, _, mode in ends for m in mode}
    if modes != {"r"} and modes != {"w"}:
        return ""
    missing = "w" if modes == {"r"} else "r"
    for pid, fd, _ in ends:
        handle = _duplicate(pid, fd)
        if handle is None:
            continue
        try:
            poller = select.poll()
            poller.register(handle, 0)
            revents = dict(poller.poll(0)).get(handle, 0)
        finally:
            os.close(handle)
        if missing == "r":
            return "r" if not revents & select.POLLERR else ""
        if revents & select.POLLHUP:
            return ""
        if not named:
            return "w"
        break
    return "" if complete else "?"


def _maps(pid: int, data: bytes) -> list[tuple[int, int, int, int, str]]:
    """(shmid, name_key, start, end, mode) of every /SYSV mapping, adjacent pieces merged."""
    found: list[tuple[int, int, int, int, str]] = []
    for line in data.decode(errors="replace").splitlines():
        if "/SYSV" not in line:
            continue
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        mode = "rw" if fields[1][1] == "w" else "r"
        offset, shmid = int(fields[2], 16), int(fields[4])
        name_key = int(line[line.index("/SYSV") + 5 :][:8], 16)
        # a piece of one attach split by mprotect continues the offset; a new attach restarts at 0
        if found and found[-1][0] == shmid and found[-1][3] == start and offset == start - found[-1][2]:
            found[-1] = (shmid, name_key, found[-1][2], end, mode)
        else:
            found.append((shmid, name_key, start, end, mode))
    return found


_X86_64_CALLS = {0: "read", 1: "write", 19: "readv", 20: "writev", 65: "semop", 69: "msgsnd", 70: "msgrcv",
                 220: "semtimedop"}


def _memory(pid: int, address: int, size: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/mem", "rb") as f:
            f.seek(address)
            data = f.read(size)
    except (OSError, ValueError, OverflowError):
        return None
    return data if len(data) == size else None


def _waits(
    pids: list[int], fds: dict[tuple[int, int], tuple[str, int]], values: dict[int, tuple[int, ...]], own_ns: str
) -> list[tuple[int, int, str, str, int | None, str, str]]:
    """(pid, tid, call, kind, id, detail, mode) of every thread blocked on a queue, a set or a pipe (x86_64)."""
    found = []
    for pid in pids:
        try:
            tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
        for tid in tids:
            try:
                fields = _read(f"/proc/{pid}/task/{tid}/syscall").split()
            except OSError:
                continue
            if len(fields) < 9 or not fields[0].isdigit() or (fields[7], fields[8]) == (b"0x0", b"0x0"):
                continue
            call = _X86_64_CALLS.get(int(fields[0]))
            if call is None:
                continue
            args = [int(x, 16) for x in fields[1:7]]
            if call in ("read", "write", "readv", "writev"):
                target = fds.get((pid, args[0]))
                if target is not None:
                    mode = "r" if call in ("read", "readv") else "w"
                    found.append((pid, tid, call, target[0], target[1], f"fd {args[0]}", mode))
                continue
            try:
                ns = os.readlink(f"/proc/{pid}/ns/ipc")
            except OSError:
                ns = ""
            ident: int | None = args[0]
            if call in ("semop", "semtimedop"):
                raw = _memory(pid, args[1], 6 * args[2])
                ops = [struct.unpack_from("Hhh", raw, 6 * i) for i in range(args[2])] if raw else []
                have = values.get(args[0], ())

                def blocks(num: int, op: int, flags: int, have: tuple[int, ...] = have) -> bool:
                    if flags & 0o4000 or num >= len(have):
                        return False
                    return have[num] + op < 0 if op < 0 else op == 0 and have[num] != 0

                shown = [o for o in ops if blocks(*o)] or ops
                detail = ", ".join(f"sem {n} op {op:+d}" if op else f"sem {n} op 0" for n, op, _ in shown)
                kind, mode, what = "sem", "", "set"
            elif call == "msgrcv":
                msgtyp = args[3] - (1 << 64) if args[3] >= 1 << 63 else args[3]
                if msgtyp == 0:
                    detail = "any type"
                elif msgtyp < 0:
                    detail = f"lowest type ≤ {-msgtyp}"
                else:
                    detail = f"any type but {msgtyp}" if args[4] & 0o20000 else f"type {msgtyp}"
                kind, mode, what = "msg", "r", "queue"
            else:
                raw = _memory(pid, args[1], 8)
                detail = f"type {struct.unpack('q', raw)[0]}" if raw else ""
                kind, mode, what = "msg", "w", "queue"
            if ns and ns != own_ns:
                detail = f"{what} {ident} of another IPC namespace" + (f", {detail}" if detail else "")
                ident = None
            found.append((pid, tid, call, kind, ident, detail, mode))
    return found


def naive_snapshot() -> Snapshot:
    now = time.time()
    own_ns = os.readlink("/proc/self/ns/ipc")
    own_inode = int(own_ns[own_ns.index("[") + 1 : -1])
    shm_rows, msg_rows, sem_rows = _table("shm"), _table("msg"), _table("sem")
    pids = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    pipe_ends: dict[int, list[tuple[int, int, str]]] = {}
    fifo_ends: dict[int, list[tuple[int, int, str]]] = {}
    fifo_paths: dict[int, str] = {}
    denied: dict[int, str] = {}
    attached: dict[int, list[tuple[int, int, int, int, str]]] = {}
    live_shmids = {r["shmid"] for r in shm_rows if r["nattch"] > 0}
    shm_dev = os.stat("/dev/shm").st_dev
    posix_held: dict[int, list[tuple[str, int, int | None, str, int]]] = {}  # pid -> (kind, inode, fd, mode, start)
    fds_denied = False
    for pid in pids:
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except PermissionError:
            denied[pid] = "permission denied"
            fds_denied = True
            names = []
        except OSError:
            continue
        for name in names:
            link = f"/proc/{pid}/fd/{name}"
            try:
                target = os.readlink(link)
            except OSError:
                continue
            if target.startswith("pipe:["):
                pipe_ends.setdefault(int(target[6:-1]), []).append((pid, int(name), _mode(pid, name)))
            elif target.startswith("/"):
                try:
                    st = os.stat(link)
                except OSError:
                    continue
                if stat.S_ISFIFO(st.st_mode):
                    fifo_ends.setdefault(st.st_ino, []).append((pid, int(name), _mode(pid, name)))
                    fifo_paths.setdefault(st.st_ino, target)
                elif stat.S_ISREG(st.st_mode):
                    kind = _posix_kind(target, st, shm_dev)
                    if kind:
                        posix_held.setdefault(pid, []).append((kind, st.st_ino, int(name), _mode(pid, name), 0))
        try:
            data = _read(f"/proc/{pid}/maps")
            maps = _maps(pid, data)
        except PermissionError:
            denied[pid] = "permission denied"
            continue
        except OSError:
            continue
        posix_held.setdefault(pid, []).extend(_shared_maps(data, shm_dev))
        maps = [m for m in maps if m[0] in live_shmids]
        if maps:
            try:
                ns = os.readlink(f"/proc/{pid}/ns/ipc")
            except OSError:
                ns = ""
            if ns not in ("", own_ns):
                continue
        for shmid, name_key, start, end, mode in maps:
            attached.setdefault(shmid, []).append((pid, name_key, start, end, mode))

    sem_state = {}
    for r in sem_rows:
        semid, n = r["semid"], r["nsems"]
        try:
            sem_state[semid] = (
                sysv.sem_getall(semid, n),
                tuple(sysv.sem_get(semid, i, sysv.GETNCNT) for i in range(n)),
                tuple(sysv.sem_get(semid, i, sysv.GETZCNT) for i in range(n)),
                tuple(sysv.sem_get(semid, i, sysv.GETPID) for i in range(n)),
            )
        except IpcError:
            sem_state[semid] = ((), (), (), ())

    fds = {(p, fd): ("pipe", inode) for inode, ends in pipe_ends.items() for p, fd, _ in ends}
    fds.update({(p, fd): ("fifo", inode) for inode, ends in fifo_ends.items() for p, fd, _ in ends})
    waits = _waits(pids, fds, {semid: state[0] for semid, state in sem_state.items()}, own_ns)

    interesting = {p for ends in (*pipe_ends.values(), *fifo_ends.values()) for p, _, _ in ends}
    interesting |= {w[0] for w in waits}
    interesting |= {a[0] for found in attached.values() for a in found}
    interesting |= {r[k] for r in shm_rows for k in ("cpid", "lpid")}
    interesting |= {r[k] for r in msg_rows for k in ("lspid", "lrpid")}
    interesting |= {p for s in sem_state.values() for p in s[3]}
    interesting |= {pid for pid, found in posix_held.items() if found}
    interesting.discard(0)
    stat_lines = _read("/proc/stat").decode().splitlines()
    btime = next(float(line.split()[1]) for line in stat_lines if line.startswith("btime"))
    facts = {}
    for pid in interesting:
        try:
            text = _read(f"/proc/{pid}/stat").decode(errors="replace")
            uid = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 2 :].split()
        try:
            cmdline = _read(f"/proc/{pid}/cmdline").rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            cmdline = ""
        try:
            wchan = _read(f"/proc/{pid}/wchan").decode(errors="replace").strip()
        except OSError:
            wchan = ""
        try:
            ns = os.readlink(f"/proc/{pid}/ns/ipc")
        except OSError:
            ns = ""
        facts[pid] = dict(
            comm=comm, state=rest[0], ppid=int(rest[1]), start_time=btime + int(rest[19]) / TICKS,
            uid=uid, cmdline=cmdline, wchan="" if wchan == "0" else wchan, ipc_ns=ns,
        )

    def comm(pid: int) -> str:
        return facts[pid]["comm"] if pid in facts else "?"

    # a process stopped by a signal waits on nothing: the stop interrupted its call (it is not counted
    # in a semaphore's ncnt), though its syscall file still names the call
    made = sorted((Wait(p, t, comm(p), c, k, i, d, m) for p, t, c, k, i, d, m in waits
                   if p in facts and facts[p]["state"] not in ("T", "t")), key=lambda w: (w.pid, w.tid))

    def waiters(kind: str, ident: int) -> tuple[Wait, ...]:
        return tuple(w for w in made if (w.kind, w.id) == (kind, ident))

    def ends(raw: list[tuple[int, int, str]]) -> tuple[PipeEnd, ...]:
        return tuple(PipeEnd(p, comm(p), fd, mode) for p, fd, mode in sorted(raw))  # type: ignore[arg-type]

    pipes = {i: Pipe(i, *_fill(raw), ends(raw), waiters("pipe", i), _unseen(raw, False, not fds_denied))
             for i, raw in pipe_ends.items()}
    fifos = {}
    for inode, raw in fifo_ends.items():
        fifos[inode] = Fifo(fifo_paths[inode], inode, *_fill(raw), ends(raw), waiters("fifo", inode),
                            _unseen(raw, True, not fds_denied))

    shm = {}
    for r in shm_rows:
        found = sorted(attached.get(r["shmid"], []), key=lambda a: (a[0], a[2]))
        status = tuple(s for bit, s in ((0o1000, "dest"), (0o2000, "locked")) if r["perms"] & bit)
        original = found[0][1] if r["key"] == 0 and "dest" in status and found and found[0][1] else None
        shm[r["shmid"]] = ShmSegment(
            r["shmid"], r["key"], r["perms"] & 0o777, r["size"], r["nattch"], r["cpid"], r["lpid"], r["uid"],
            r["gid"], r["cuid"], r["cgid"], _user(r["uid"]), r["atime"], r["dtime"], r["ctime"], r.get("rss", 0),
            r.get("swap", 0), status,
            tuple(Attacher(p, comm(p), s, e, m) for p, _, s, e, m in found), original,  # type: ignore[arg-type]
            ipc_ns=own_inode, container="host",
        )
    msg = {}
    for r in msg_rows:
        try:
            qbytes: int | None = sysv.msg_stat(r["msqid"]).qbytes
        except IpcError:
            qbytes = None
        msg[r["msqid"]] = MsgQueue(
            r["msqid"], r["key"], r["perms"] & 0o777, r["cbytes"], r["qnum"], qbytes, r["lspid"], r["lrpid"],
            r["uid"], r["gid"], r["cuid"], r["cgid"], _user(r["uid"]), r["stime"], r["rtime"], r["ctime"],
            ipc_ns=own_inode, container="host", waiters=waiters("msg", r["msqid"]),
        )
    sem = {
        r["semid"]: SemSet(
            r["semid"], r["key"], r["perms"] & 0o777, r["nsems"], *sem_state[r["semid"]], r["uid"], r["gid"],
            r["cuid"], r["cgid"], _user(r["uid"]), r["otime"], r["ctime"], ipc_ns=own_inode, container="host",
            waiters=waiters("sem", r["semid"]),
        )
        for r in sem_rows
    }

    held: dict[int, list[HeldPipeEnd]] = {}
    for kind, table in (("pipe", pipes), ("fifo", fifos)):
        for inode, p in table.items():
            for e in p.ends:
                held.setdefault(e.pid, []).append(HeldPipeEnd(kind, inode, e.fd, e.mode))  # type: ignore[arg-type]
    procs = {}
    for pid, f in facts.items():
        procs[pid] = Process(
            pid=pid, ppid=f["ppid"], comm=f["comm"], cmdline=f["cmdline"], uid=f["uid"], user=_user(f["uid"]),
            state=f["state"], wchan=f["wchan"], start_time=f["start_time"], ipc_ns=f["ipc_ns"],
            shm=tuple(sorted(s.shmid for s in shm.values() if any(a.pid == pid for a in s.attachers))),
            pipes=tuple(sorted(held.get(pid, ()), key=lambda h: h.fd)),
            msg=tuple(sorted(q.msqid for q in msg.values() if pid in (q.lspid, q.lrpid))),
            sem=tuple(sorted(s.semid for s in sem.values() if pid in s.pids)),
            posix=tuple(sorted((HeldObject(*held) for held in posix_held.get(pid, ())), key=_held_order)),  # type: ignore[arg-type]
            waits=tuple(w for w in made if w.pid == pid),
        )
    return Snapshot(
        time=now, ipc_ns=own_ns, shm=shm, msg=msg, sem=sem, pipes=pipes, fifos=fifos, processes=procs,
        limits=_limits(), uninspectable=tuple(Uninspectable(p, r) for p, r in sorted(denied.items())),
        live_pids=frozenset(pids),
    )


def _posix_kind(target: str, st: os.stat_result, shm_dev: int) -> str:
    """pshm, psem, pmsg or memfd for an fd on a regular file that is one (stat()ed the plain way)."""
    if st.st_dev == shm_dev:
        return "psem" if os.path.basename(target).startswith("sem.") else "pshm"
    if target.startswith("/memfd:"):
        return "memfd"
    if st.st_size == 80 and "/" not in target.removesuffix(" (deleted)")[1:]:
        try:
            with open("/proc/self/mountinfo") as f:
                mounted = f.read()
        except OSError:
            return ""
        return "pmsg" if f" {os.major(st.st_dev)}:{os.minor(st.st_dev)} " not in mounted else ""
    return ""


def _shared_maps(data: bytes, shm_dev: int) -> list[tuple[str, int, None, str, int]]:
    """(kind, inode, None, mode, start) of every shared mapping of POSIX or unnamed shared memory, line by line,
    the pieces of one mmap split by mprotect merged (they continue the file offset)."""
    found: list[tuple[str, int, None, str, int]] = []
    last = None  # ((dev, inode), end, the file offset at the end) of the line before
    for line in data.decode(errors="replace").splitlines():
        fields = line.split(None, 5)
        if len(fields) < 6 or fields[1][3] != "s":
            continue
        major, minor = (int(x, 16) for x in fields[3].split(":"))
        dev, inode, path = os.makedev(major, minor), int(fields[4]), fields[5]
        if dev == shm_dev:
            kind = "psem" if "/sem." in path else "pshm"
        elif path.startswith(("/memfd:", "/dev/zero (deleted)", "[anon_shmem:")):
            kind = "memfd"
        else:
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        offset = int(fields[2], 16)
        mode = "rw" if fields[1][1] == "w" else "r"
        if last is not None and last == ((dev, inode), start, offset):
            kind0, inode0, _, mode0, start0 = found[-1]
            found[-1] = (kind0, inode0, None, "rw" if "w" in mode + mode0 else "r", start0)
        else:
            found.append((kind, inode, None, mode, start))
        last = ((dev, inode), end, offset + end - start)
    return found


def naive_namespaces(pids: Iterable[int]) -> dict[int, dict[str, object]]:
    """inode -> what each other IPC namespace of `pids` holds, read the plain way: its tables read by a
    thread that joined it, its segments' attacher pids from every maps file of its processes."""
    own = os.stat("/proc/self/ns/ipc").st_ino
    members: dict[int, list[int]] = {}
    for pid in pids:
        try:
            inode = os.stat(f"/proc/{pid}/ns/ipc").st_ino
        except OSError:
            continue
        if inode != own:
            members.setdefault(inode, []).append(pid)
    libc = ctypes.CDLL(None, use_errno=True)
    found: dict[int, dict[str, object]] = {}

    def read(inode: int, pid: int) -> None:
        fd = os.open(f"/proc/{pid}/ns/ipc", os.O_RDONLY)
        try:
            if os.fstat(fd).st_ino != inode or libc.setns(fd, 0x08000000) != 0:
                return
        finally:
            os.close(fd)
        tables = {kind: _table(kind) for kind in ("shm", "msg", "sem")}
        values = {}
        for r in tables["sem"]:  # type: ignore[union-attr]
            try:
                values[r["semid"]] = sysv.sem_getall(r["semid"], r["nsems"])
            except IpcError:
                values[r["semid"]] = ()
        found[inode] = {**tables, "values": values}

    for inode, pids_in in members.items():
        thread = threading.Thread(target=read, args=(inode, pids_in[0]))  # it ends there: leaves no one behind
        thread.start()
        thread.join()
        if inode not in found:
            continue
        attachers: dict[int, list[int]] = {}
        for pid in pids_in:
            try:
                maps = _maps(pid, _read(f"/proc/{pid}/maps"))
            except OSError:
                continue
            for shmid, *_ in maps:
                attachers.setdefault(shmid, []).append(pid)
        found[inode]["attachers"] = {shmid: sorted(p) for shmid, p in attachers.items()}
    return found


def compare_namespaces(fast: Snapshot, reference: dict[int, dict[str, object]]) -> list[str]:
    """Differences between the snapshot's other namespaces and `naive_namespaces`, over those it read."""
    problems = []
    for inode, naive in reference.items():
        namespace = fast.namespace(inode)
        if namespace is None or namespace.error:
            problems.append(f"namespace {inode}: {'missing' if namespace is None else namespace.error}")
            continue
        attachers = naive["attachers"]
        mine = {s.shmid: (s.key, s.size, s.nattch, s.cpid, sorted(a.pid for a in s.attachers))
                for s in namespace.shm.values()}
        theirs = {r["shmid"]: (r["key"], r["size"], r["nattch"], r["cpid"], attachers.get(r["shmid"], []))  # type: ignore[union-attr]
                  for r in naive["shm"]}  # type: ignore[union-attr]
        mine_msg = {q.msqid: (q.key, q.qnum, q.cbytes, q.lspid) for q in namespace.msg.values()}
        theirs_msg = {r["msqid"]: (r["key"], r["qnum"], r["cbytes"], r["lspid"]) for r in naive["msg"]}  # type: ignore[union-attr]
        mine_sem = {s.semid: (s.key, s.nsems, s.values) for s in namespace.sem.values()}
        theirs_sem = {r["semid"]: (r["key"], r["nsems"], naive["values"][r["semid"]])  # type: ignore[index]
                      for r in naive["sem"]}  # type: ignore[union-attr]
        for kind, a, b in (("shm", mine, theirs), ("msg", mine_msg, theirs_msg), ("sem", mine_sem, theirs_sem)):
            if a != b:
                problems.append(f"namespace {inode} {kind}: {sorted(set(a.items()) ^ set(b.items()), key=str)[:3]}")
    return problems


def _limits() -> Limits:
    def number(path: str) -> int:
        with open(path) as f:
            return int(f.read().split()[0])

    k = "/proc/sys/kernel/"
    q = "/proc/sys/fs/mqueue/"
    with open(k + "sem") as f:
        semmsl, semmns, semopm, semmni = (int(v) for v in f.read().split())
    vfs = os.statvfs("/dev/shm")
    return Limits(
        number(k + "shmmax"), number(k + "shmall"), number(k + "shmmni"), number(k + "msgmax"), number(k + "msgmnb"),
        number(k + "msgmni"), semmsl, semmns, semopm, semmni, number("/proc/sys/fs/pipe-max-size"),
        number(q + "queues_max"), number(q + "msg_max"), number(q + "msgsize_max"), number(q + "msg_default"),
        number(q + "msgsize_default"), vfs.f_blocks * vfs.f_frsize, (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize,
    )


def _world_ends(pipe: Pipe | Fifo, pids: set[int]) -> Pipe | Fifo:
    return replace(pipe, ends=tuple(e for e in pipe.ends if e.pid in pids))


def _world_peers(process: Process, pids: set[int]) -> Process:
    return replace(process, posix=tuple(sorted(process.posix, key=_held_order)))


def _held_order(held: HeldObject) -> tuple:
    return held.kind, held.inode, held.fd is None, held.fd or 0, held.start


def _compare_posix(fast: Snapshot, reference: Snapshot, pids: set[int]) -> list[str]:
    """The world's POSIX and unnamed objects: the holders the snapshot found against what each world
    process holds by the naive scan (the world's objects are named in ipctop's bench range)."""
    problems = []
    held_by_ref: dict[tuple[str, int], set[tuple[int, int | None, int]]] = {}
    for pid in pids:
        process = reference.processes.get(pid)
        for held in process.posix if process else ():
            held_by_ref.setdefault((held.kind, held.inode), set()).add((pid, held.fd, held.start))
    for kind in ("pshm", "psem", "pmsg", "memfd"):
        for inode, obj in getattr(fast, kind).items():
            if kind != "memfd" and not obj.name.lstrip("/").startswith(POSIX_BENCH_PREFIX):
                held_by_ref.pop((kind, inode), None)  # not the world's: not compared
                continue
            found = {(h.pid, h.fd, h.start) for h in obj.holders if h.pid in pids}
            if kind == "memfd" and not found:
                continue
            expected = held_by_ref.pop((kind, inode), set())
            if found != expected:
                problems.append(f"{kind} {inode}: holders {sorted(found)[:4]} != {sorted(expected)[:4]}")
    for (kind, inode), left in held_by_ref.items():
        problems.append(f"{kind} {inode}: held by {sorted(left)[:4]} but not in the snapshot")
    return problems


def compare(fast: Snapshot, reference: Snapshot, keys: set[int], pids: set[int]) -> list[str]:
    """Differences between two snapshots over the objects with `keys` and the processes in `pids`."""
    problems = []
    for name in ("shm", "msg", "sem"):
        mine_fast = {i: o for i, o in getattr(fast, name).items() if o.key in keys}
        mine_ref = {i: o for i, o in getattr(reference, name).items() if o.key in keys}
        if set(mine_fast) != set(mine_ref):
            problems.append(f"{name}: ids differ: {sorted(set(mine_fast) ^ set(mine_ref))[:5]}")
        problems += [f"{name} {i}: {mine_fast[i]} != {mine_ref[i]}" for i in mine_fast.keys() & mine_ref.keys()
                     if mine_fast[i] != mine_ref[i]]
    # Another program that scans the machine (a test run of ipctop, lsof) holds a world
    # pipe for a moment while it measures it: pipes and peers are compared as seen
    # from the world's processes.
    for name in ("pipes", "fifos"):
        mine_fast = {i: _world_ends(o, pids) for i, o in getattr(fast, name).items() if _world_ends(o, pids).ends}
        mine_ref = {i: _world_ends(o, pids) for i, o in getattr(reference, name).items() if _world_ends(o, pids).ends}
        if set(mine_fast) != set(mine_ref):
            problems.append(f"{name}: inodes differ: {sorted(set(mine_fast) ^ set(mine_ref))[:5]}")
        problems += [f"{name} {i}: {mine_fast[i]} != {mine_ref[i]}" for i in mine_fast.keys() & mine_ref.keys()
                     if mine_fast[i] != mine_ref[i]]
    # (processes of the world's other IPC namespaces are compared by compare_namespaces, through their objects)
    own = fast.ipc_ns
    procs_fast = {p: _world_peers(o, pids) for p, o in fast.processes.items() if p in pids and o.ipc_ns == own}
    procs_ref = {p: _world_peers(o, pids) for p, o in reference.processes.items() if p in pids and o.ipc_ns == own}
    problems += _compare_posix(fast, reference, pids)
    if set(procs_fast) != set(procs_ref):
        problems.append(f"processes differ: {sorted(set(procs_fast) ^ set(procs_ref))[:5]}")
    problems += [f"process {p}: {procs_fast[p]} != {procs_ref[p]}" for p in procs_fast.keys() & procs_ref.keys()
                 if procs_fast[p] != procs_ref[p]]
    # /dev/shm's use moves with anything any program does there
    fast_limits = replace(fast.limits, dev_shm_used=None) if fast.limits else None
    reference_limits = replace(reference.limits, dev_shm_used=None) if reference.limits else None
    if fast_limits != reference_limits:
        problems.append(f"limits: {fast.limits} != {reference.limits}")
    if fast.ipc_ns != reference.ipc_ns:
        problems.append("ipc_ns differs")
    # The snapshot reads maps only until every attachment is found, so it may name fewer
    # unreadable processes than a full scan; it must not name others.
    if not set(fast.uninspectable) <= set(reference.uninspectable):
        problems.append(f"uninspectable: {set(fast.uninspectable) - set(reference.uninspectable)}")
    return problems
