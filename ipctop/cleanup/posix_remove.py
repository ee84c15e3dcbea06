"""Remove POSIX leak candidates, each only after checking it again, and backing it up if asked.

A POSIX object has no IPC_STAT that says who holds it: that takes a look at every
process's fds and maps.  So the removable candidates are checked together: one
scan before (still there under the same name and inode, made at the same time,
unchanged since, and still held by nobody), the backups, one scan after (nobody
came meanwhile; a queue we emptied for its backup is expected to have changed),
then each is unlinked.  A queue whose backup received its messages gets them
back if it is kept after all.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import ipctop.cleanup.posix_backup as posix_backup
from ipctop.cleanup.backup import Backup, BackupError, write_backup
from ipctop.cleanup.candidate import LeakCandidate, RemovalResult
from ipctop.kernel.errors import IpcError
from ipctop.model import PosixQueue, Snapshot

POSIX_KINDS = frozenset({"pshm", "psem", "pmsg"})


def _scan() -> Snapshot:
    from ipctop.snapshot import take_snapshot

    return take_snapshot(kinds=POSIX_KINDS)


def _why_not(candidate: LeakCandidate, snapshot: Snapshot, emptied_by_us: bool = False) -> str | None:
    """None when the object is still the one judged, and still held by nobody; else why to leave it."""
    obj = getattr(snapshot, candidate.kind).get(candidate.id)
    if obj is None or obj.name != candidate.name or obj.unlinked:
        return "it no longer exists under that name (unlinked or replaced since the scan)"
    if obj.holders:
        who = ", ".join(f"{h.comm}[{h.pid}]" for h in obj.holders[:3])
        return f"a process holds it now ({who})"
    made, mtime = candidate.marks
    if obj.made != made and candidate.kind != "pmsg":
        return "another object has that name now (it was made at another time)"
    if emptied_by_us:
        if isinstance(obj, PosixQueue) and obj.messages:
            return f"messages arrived while it was being backed up ({obj.messages} now)"
        return None
    if obj.mtime != mtime:
        return "it was changed since the scan"
    return None


def remove_posix_candidates(candidates: list[LeakCandidate], backup_dir: str | os.PathLike | None
                            ) -> dict[int, RemovalResult]:
    """Results by the candidate's index in `candidates` (only POSIX ones are looked at)."""
    results: dict[int, RemovalResult] = {}
    todo = []
    for index, candidate in enumerate(candidates):
        if candidate.kind not in POSIX_KINDS:
            continue
        if not candidate.removable:
            results[index] = RemovalResult(candidate, "reported", f"kept {candidate.label}: {candidate.reason}")
        else:
            todo.append(index)
    if not todo:
        return results
    before = _scan()
    backed: dict[int, tuple[Path | None, Backup | None]] = {}
    for index in todo:
        candidate = candidates[index]
        why = _why_not(candidate, before)
        if why:
            results[index] = RemovalResult(candidate, "skipped", f"skipped {candidate.label}: {why}")
            continue
        if backup_dir is None:
            backed[index] = (None, None)
            continue
        try:
            record = posix_backup.capture(candidate.kind, candidate.name, candidate.reason)
        except IpcError as error:
            results[index] = RemovalResult(candidate, "failed",
                                           f"kept {candidate.label}: cannot read it for the backup ({error})")
            continue
        try:
            chunks = posix_backup.contents(record) if record.kind == "pshm" else None
            backed[index] = (write_backup(record, backup_dir, chunks), record)
        except OSError as error:
            results[index] = _undo(candidate, None, record, f"kept {candidate.label}: cannot read it for the backup "
                                   f"({error.strerror or error})", "failed")
        except BackupError as error:
            results[index] = _undo(candidate, None, record, f"kept {candidate.label}: {error}", "failed")
    if not backed:
        return results
    after = _scan()
    for index, (path, record) in backed.items():
        candidate = candidates[index]
        why = _why_not(candidate, after, emptied_by_us=record is not None and record.received)
        if why:
            results[index] = _undo(candidate, path, record, f"skipped {candidate.label}: {why}", "skipped")
            continue
        try:
            from ipctop.actions.posix import unlink

            unlink(candidate.kind, candidate.name)
        except IpcError as error:
            results[index] = _undo(candidate, path, record, f"kept {candidate.label}: {error}", "failed")
            continue
        saved = f"; backup in {path}" if path else ""
        results[index] = RemovalResult(candidate, "removed", f"removed {candidate.label}: {candidate.reason}{saved}",
                                       str(path) if path else None)
    return results


def _undo(candidate: LeakCandidate, path: Path | None, record: Backup | None, message: str,
          outcome: str) -> RemovalResult:
    """The object stays: give a queue back its messages, and drop the now pointless backup file."""
    if record is not None and record.received and record.messages:
        lost = posix_backup.put_back(candidate.name, record.messages)
        if lost:
            message += f"; {lost} of its {len(record.messages)} messages could not be sent back to it"
            if path is not None:
                message += f" (they are in the backup {path}, kept)"
                return RemovalResult(candidate, outcome, message, str(path))  # type: ignore[arg-type]
        else:
            message += f"; its {len(record.messages)} messages were sent back to it"
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()
    return RemovalResult(candidate, outcome, message)  # type: ignore[arg-type]
