"""Race the cleanup's removal against processes that start using the object: how many in-use objects go?

    python -m benchmarks.cleanup_race [--trials 1000] [--kinds shm,msg-send,msg-wait,sem-op,sem-wait]

Each trial makes a leaked object (a child of a user no process runs as creates it,
uses it and exits), judges it a candidate, and calls remove_candidates while a
racer process, started at the same moment, waits a random time within the span
the removal takes and then uses the object:

- shm:      shmat, then looks: a segment removed while attached is marked `dest`
- msg-send: msgsnd IPC_NOWAIT; a message that got in and whose queue was then
            removed is lost
- msg-wait: msgrcv that blocks; EIDRM means it was waiting when the queue went
- sem-op:   semop +1 IPC_NOWAIT that got in before the set was removed
- sem-wait: semop -1 that blocks; EIDRM means it was waiting when the set went

An object counts as "removed in use" when the racer's use landed (or its wait
began) before the removal and the removal still happened.  System V has no
atomic "remove if unused", so some window remains; this measures it.  The
candidate is made from IPC_STAT directly (no snapshot per trial: the removal is
what is measured).  Run as root.  Everything it makes is removed.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import random
import sys
import time
from collections import Counter

from ipctop.cleanup import remove_candidates
from ipctop.cleanup.leaks import LeakCandidate
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import BENCH_KEYS

GONE_USER = 0x4950_A0FF  # a uid no process runs as: the objects' creator is positively gone
KINDS = ("shm", "msg-send", "msg-wait", "sem-op", "sem-wait")


def _free_key() -> int:
    used = set()
    for kind in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{kind}") as f:
            used |= {int(line.split()[0]) & 0xFFFFFFFF for line in f.readlines()[1:] if line.strip()}
    return next(key for key in BENCH_KEYS if key not in used)


def _leave(kind: str) -> int:
    """An object made and used by a child running as GONE_USER, which then exits (under a free key: one
    that another process takes meanwhile makes it try the next)."""
    for _ in range(100):
        made = _leave_once(kind, _free_key())
        if made is not None:
            return made
    raise RuntimeError("no free key in the benchmark range")


def _leave_once(kind: str, key: int) -> int | None:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(GONE_USER, GONE_USER, GONE_USER)
            os.setresuid(GONE_USER, GONE_USER, GONE_USER)
            if kind == "shm":
                ident = sysv.shmget(key, 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o666)
                sysv.shmdt(sysv.shmat(ident))
            elif kind == "msg":
                ident = sysv.msgget(key, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o666)
                sysv.msgsnd(ident, 1, b"left")
            else:
                ident = sysv.semget(key, 1, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o666)
                sysv.semop(ident, 0, 1)
                sysv.semop(ident, 0, -1)
            os.write(write_fd, str(ident).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        text = f.read()
    os.waitpid(pid, 0)
    return int(text) if text else None


def _candidate(kind: str, ident: int) -> LeakCandidate:
    """What find_leaks would propose for it (the same identity and use fields), read by IPC_STAT."""
    base = dict(kind=kind, id=ident, reason="benchmark", removable=True, owner="", uid=GONE_USER, perms=0o666)
    if kind == "shm":
        st = sysv.shm_stat(ident)
        return LeakCandidate(**base, key=st.key, ctime=st.ctime, last_touched=st.ctime, users=(st.cpid, st.lpid),
                             times=(st.atime, st.dtime))
    if kind == "msg":
        mt = sysv.msg_stat(ident)
        return LeakCandidate(**base, key=mt.key, ctime=mt.ctime, last_touched=mt.ctime, users=(mt.lspid, mt.lrpid),
                             times=(mt.stime, mt.rtime))
    se = sysv.sem_stat(ident)
    return LeakCandidate(**base, key=se.key, ctime=se.ctime, last_touched=se.ctime,
                         users=(sysv.sem_get(ident, 0, sysv.GETPID),), times=(se.otime,))


def _use(race: str, ident: int) -> str:
    """The racer's use of the object: what happened, as a word."""
    try:
        if race == "shm":
            address = sysv.shmat(ident)
            dest = sysv.shm_stat(ident).mode & 0o1000
            sysv.shmdt(address)
            return "attached-then-removed" if dest else "attached"
        if race == "msg-send":
            sysv.msgsnd(ident, 2, b"racer", nowait=True)
            return "sent"
        if race == "msg-wait":
            sysv.msgrcv(ident, 99, 64)
            return "received"
        if race == "sem-op":
            sysv.semop(ident, 0, 1, nowait=True)
            return "operated"
        sysv.semop(ident, 0, -1)
        return "operated"
    except IpcError as error:
        if error.errno == errno.EIDRM and race in ("msg-wait", "sem-wait"):
            return "woken-by-removal"  # it was waiting when the object went
        return "refused"


LEAD = 0.002  # seconds: the removal starts up to this late, so that racers also land at its very start


def _spin(seconds: float) -> None:
    """Wait `seconds` precisely: asleep (leaving the CPU to the removal) but for the last millisecond."""
    until = time.perf_counter() + seconds
    if seconds > 0.002:
        time.sleep(seconds - 0.002)
    while time.perf_counter() < until:
        pass


def trial(race: str, delay: float, lead: float = 0.0) -> tuple[str, str, float]:
    """(removal outcome, racer's word, seconds the removal took) of one raced removal."""
    kind = race.split("-")[0]
    ident = _leave(kind)
    candidate = _candidate(kind, ident)
    go_r, go_w = os.pipe()
    said_r, said_w = os.pipe()
    racer = os.fork()
    if racer == 0:
        word = "refused"
        try:
            os.read(go_r, 1)
            _spin(delay)
            word = _use(race, ident)
        finally:
            os.write(said_w, word.encode())
            os._exit(0)
    os.close(said_w)
    os.close(go_r)
    try:
        os.write(go_w, b"g")
        _spin(lead)
        started = time.perf_counter()
        [result] = remove_candidates([candidate])
        took = time.perf_counter() - started
        if result.outcome != "removed":  # kept: the waiting racer ends when its object goes now
            with contextlib.suppress(IpcError):
                {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind](ident)
        word = os.read(said_r, 64).decode()
    finally:
        os.waitpid(racer, 0)
        for fd in (go_w, said_r):
            os.close(fd)
    return result.outcome, word, took


def in_use_removed(race: str, outcome: str, word: str) -> bool:
    if outcome != "removed":
        return False
    if race == "shm":
        return word in ("attached", "attached-then-removed")  # attached, whether it saw `dest` yet or not
    if race in ("msg-wait", "sem-wait"):
        return word == "woken-by-removal"
    return word in ("sent", "operated")  # it got in, then its object was removed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: the objects are made as another user", file=sys.stderr)
        return 2
    for race in args.kinds.split(","):
        # How long a removal takes here: the racer's delay is drawn over that span, and a little more.
        spans = sorted(trial(race, 0.2)[2] for _ in range(20))  # a racer that comes long after
        span = spans[len(spans) // 2]
        counts: Counter[str] = Counter()
        lost = 0
        for _ in range(args.trials):
            outcome, word, _ = trial(race, random.uniform(0, span + 2 * LEAD), random.uniform(0, LEAD))
            counts[f"{outcome}/{word}"] += 1
            lost += in_use_removed(race, outcome, word)
        shown = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        print(f"{race:9} {args.trials} trials, removal {span * 1000:.1f} ms: {lost} in use removed  ({shown})",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
