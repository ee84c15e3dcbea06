"""Remove leak candidates, each only after checking it again and backing it up if asked.

For each removable candidate, in order: IPC_STAT by id to see it is still the
object judged and still unused (else skip, saying why); write the backup (if
that fails, do not remove); read /proc for a thread blocked on it (a queue or a
set); then IPC_STAT again and IPC_RMID back to back, with nothing between them
that grows with the number of processes.  Candidates that are reported only are
never touched.  Each one gives a RemovalResult whose message is the line a cron
job should log.

A candidate of another IPC namespace goes through all of that inside its namespace
(kernel/ipcns.py: every check, backup, waiter scan and removal is done by a thread
that joined it, by its id there); a namespace whose processes have all exited took
its objects with it, and says so.

System V has no "remove if unused": a process that starts using the object
between the last IPC_STAT and IPC_RMID (microseconds), or that blocks on a queue
after /proc was read and before IPC_RMID, is not seen.  docs/cleanup.md gives
the measured windows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from ipctop.cleanup import backup as backups
from ipctop.cleanup.candidate import POSIX_KINDS, Outcome, RemovalResult
from ipctop.cleanup.leaks import LeakCandidate
from ipctop.cleanup.posix_remove import remove_posix_candidates
from ipctop.cleanup.recheck import check_unchanged
from ipctop.cleanup.waiters import scan_waiters
from ipctop.collectors import namespaces
from ipctop.collectors.procfs import ProcFS
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.kernel.ipcns import Target, Unenterable, run_in

_REMOVE = {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}


def remove_candidates(candidates: Iterable[LeakCandidate], backup_dir: str | os.PathLike | None = None
                      ) -> list[RemovalResult]:
    """Remove every removable candidate that is still what it was; one result each, in order.

    Never raises for a kernel refusal: that candidate's result says "failed".
    The caller decides whether removing is allowed at all (--readonly).
    """
    candidates = list(candidates)
    posix: dict[int, RemovalResult] = {}
    if any(candidate.kind in POSIX_KINDS for candidate in candidates):
        posix = remove_posix_candidates(candidates, backup_dir)  # ipctop's own /dev/shm and queues
    members: dict[int, tuple[int, ...]] | None = None  # of the other namespaces, found once, when first needed
    results = []
    for index, candidate in enumerate(candidates):
        if index in posix:
            results.append(posix[index])
            continue
        if not candidate.ipc_ns or not candidate.removable:
            results.append(_remove_one(candidate, backup_dir))
            continue
        if members is None:
            proc = ProcFS()
            members = namespaces.discover(proc, proc.pids(), os.readlink("/proc/thread-self/ns/ipc")).members
        target = Target(candidate.ipc_ns, members.get(candidate.ipc_ns, ()))
        try:
            results.append(run_in(target, _remove_one, candidate, backup_dir))
        except Unenterable as refusal:
            results.append(RemovalResult(candidate, "skipped", f"skipped {candidate.label}: {refusal.reason}"))
    return results


def _remove_one(candidate: LeakCandidate, backup_dir: str | os.PathLike | None) -> RemovalResult:
    label = candidate.label
    if not candidate.removable:
        return RemovalResult(candidate, "reported", f"kept {label}: {candidate.reason}")
    try:
        why = check_unchanged(candidate)
    except IpcError as error:
        return RemovalResult(candidate, "failed", f"kept {label}: cannot check it again before removing ({error})")
    if why:
        return RemovalResult(candidate, "skipped", f"skipped {label}: {why}")
    path: Path | None = None
    record: backups.Backup | None = None
    if backup_dir is not None:
        made = _back_up(candidate, backup_dir)
        if isinstance(made, RemovalResult):
            return made
        path, record = made
    blocked = scan_waiters(settle=True).on(candidate.kind, candidate.id) if candidate.kind != "shm" else ()
    if blocked:
        return _undo(candidate, path, record, f"skipped {label}: process {', '.join(map(str, blocked))} "
                                              "is blocked on it", "skipped")
    # The last look and the removal, back to back.
    try:
        why = check_unchanged(candidate, read_by_us=record is not None and _read_by_us(candidate, record))
        if why:
            return _undo(candidate, path, record, f"skipped {label}: {why}", "skipped")
        _REMOVE[candidate.kind](candidate.id)
    except IpcError as error:
        return _undo(candidate, path, record, f"kept {label}: {error}", "failed")
    saved = f"; backup in {path}" if path else ""
    return RemovalResult(candidate, "removed", f"removed {label}: {candidate.reason}{saved}",
                         str(path) if path else None)


def _back_up(candidate: LeakCandidate, backup_dir: str | os.PathLike) -> RemovalResult | tuple[Path, backups.Backup]:
    """Write the backup; a RemovalResult when the object must be kept."""
    label = candidate.label
    try:
        return backups.save(candidate.kind, candidate.id, backup_dir, candidate.reason,
                            namespace=candidate.container)
    except IpcError as error:
        return RemovalResult(candidate, "failed", f"kept {label}: cannot read it for the backup ({error})")
    except backups.BackupError as error:  # messages it had to receive are sent back already
        return RemovalResult(candidate, "failed", f"kept {label}: {error}")


def _read_by_us(candidate: LeakCandidate, record: backups.Backup) -> bool:
    """Attaching a segment (or receiving a queue's messages) for the backup is a use of our own;
    anything else that changed means another process came."""
    return candidate.kind == "shm" or record.received


def _undo(candidate: LeakCandidate, path: Path | None, record: backups.Backup | None, message: str,
          outcome: Outcome) -> RemovalResult:
    """The object stays: give back messages we received and drop the now pointless backup file."""
    if record is not None and record.received and record.messages:
        lost = backups.put_back(candidate.id, record.messages)
        if lost:
            message += f"; {lost} of its {len(record.messages)} messages could not be sent back to it"
            if path is not None:
                message += f" (they are in the backup {path}, kept)"
                return RemovalResult(candidate, outcome, message, str(path))
        else:
            message += f"; its {len(record.messages)} messages were sent back to it"
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()
    return RemovalResult(candidate, outcome, message)
