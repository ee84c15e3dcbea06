"""How pipes read to a person: chains of processes, and the state of a pipe's ends.

`sleep 1000 | sleep 2000 | sleep 3000` is two pipes; joined by the process that
reads one and writes the next they read as one chain of three processes.  The
state of a pipe says who is stuck and why, from the ends that are open, the bytes
waiting and the processes blocked on it (its `waiters`, read from their system
calls; a wait guessed from wchan makes the state a guess too).  Pure: no textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ipctop.model import STOPPED_STATES, Fifo, Pipe, Process, Snapshot, Wait

PIPE_BUF = 4096  # a write up to this size is atomic: it waits until that much room is free
OPEN_CALLS = frozenset({"open", "openat", "openat2"})


@dataclass(frozen=True, slots=True)
class Chain:
    """Processes joined by pipes, each writing into the next: pids[i] -> inodes[i] -> pids[i+1]."""

    pids: tuple[int, ...]
    inodes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PipeState:
    """What is going on at a pipe's ends, in one phrase; `alert` when someone is stuck or will fail."""

    code: str  # writer-blocked, reader-blocked, opener-blocked, no-reader(-seen), no-writer(-seen), data, idle
    text: str  # short, for a table cell
    explanation: str  # a sentence, for the detail
    alert: bool = False
    pid: int | None = None  # the process the state is about, if one


def _single(pids: set[int]) -> int | None:
    return next(iter(pids)) if len(pids) == 1 else None


def pipe_links(snapshot: Snapshot) -> dict[int, tuple[int, int]]:
    """Anonymous pipes with one writing and one other reading process: inode -> (writer, reader)."""
    links = {}
    for inode, pipe in snapshot.pipes.items():
        writer = _single({e.pid for e in pipe.writers})
        reader = _single({e.pid for e in pipe.readers})
        if writer is not None and reader is not None and writer != reader:
            links[inode] = (writer, reader)
    return links


def chains(snapshot: Snapshot) -> list[Chain]:
    """Every maximal chain of processes linked by pipes, ordered by its first pid."""
    links = pipe_links(snapshot)
    out: dict[int, list[tuple[int, int]]] = {}
    into: dict[int, list[int]] = {}
    for inode, (writer, reader) in links.items():
        out.setdefault(writer, []).append((inode, reader))
        into.setdefault(reader, []).append(writer)

    def passes_through(pid: int) -> bool:
        return len(into.get(pid, ())) == 1 and len(out.get(pid, ())) == 1

    found = []
    for start in sorted(out):
        if passes_through(start):
            continue  # the middle of a chain that starts earlier (or of a cycle, which is no chain)
        for inode, nxt in sorted(out[start]):
            pids, inodes = [start], [inode]
            while True:
                pids.append(nxt)
                if not passes_through(nxt) or out[nxt][0][1] in pids:
                    break
                inode, nxt = out[nxt][0]
                inodes.append(inode)
            found.append(Chain(tuple(pids), tuple(inodes)))
    return found


def chain_of(inode: int, found: list[Chain]) -> Chain | None:
    return next((c for c in found if inode in c.inodes), None)


def _blocked(waiters: tuple[Wait, ...], mode: str) -> Wait | None:
    """The first waiter (by pid) blocked wanting to read ("r") or write ("w"), not in open()."""
    found = [w for w in waiters if mode in w.mode and w.call not in OPEN_CALLS]
    return min(found, key=lambda w: (not w.exact, w.pid, w.tid)) if found else None


def _all_stopped(pids: set[int], processes: Mapping[int, Process] | None) -> list[int] | None:
    """`pids` in order when every one is a known stopped process; None otherwise."""
    if not pids or processes is None:
        return None
    for pid in pids:
        process = processes.get(pid)
        if process is None or process.state not in STOPPED_STATES:
            return None
    return sorted(pids)


def _stopped_words(pids: list[int], processes: Mapping[int, Process], end: str) -> str:
    """`its reader gzip[812] is stopped (SIGSTOP, SIGTSTP or Ctrl-Z): `kill -CONT 812` resumes it`, or
    `... stopped by a debugger (tracer)` when each is in a tracing stop."""
    names = ", ".join(f"{processes[pid].comm}[{pid}]" for pid in pids)
    traced = all(processes[pid].state == "t" for pid in pids)
    verb = "is" if len(pids) == 1 else "are"
    plural = "" if len(pids) == 1 else "s"
    if traced:
        return f"its {end}{plural} {names} {verb} stopped by a debugger (tracer)"
    return (f"its {end}{plural} {names} {verb} stopped (SIGSTOP, SIGTSTP or Ctrl-Z): "
            f"`kill -CONT {' '.join(map(str, pids))}` resumes {'it' if len(pids) == 1 else 'them'}")


def _who(wait: Wait, verb: str) -> str:
    """`Process 7 is blocked in write`, `Process 7 (thread 8) waits in poll to read it`, or a guess."""
    if not wait.exact:
        return f"Process {wait.pid} seems blocked in {verb} (a guess from where it sleeps: its system call " \
            "could not be read)"
    thread = f" (thread {wait.tid})" if wait.tid != wait.pid else ""
    if wait.call in ("read", "readv", "write", "writev", "splice", "tee"):
        return f"Process {wait.pid}{thread} is blocked in {wait.call}"
    return f"Process {wait.pid}{thread} waits in {wait.call} to {verb} it"


def pipe_state(pipe: Pipe | Fifo, processes: Mapping[int, Process] | None = None) -> PipeState:
    """The state of the ends of `pipe`, judged from who holds them and who waits on it.

    The waiters are on the pipe, read from the whole machine.  `processes` (a snapshot's
    `known_processes`, so that a filtered snapshot gives the same state) tell whether every
    process holding the other end is stopped (SIGSTOP, Ctrl-Z, a debugger): then that, not
    the blocked one, is what holds the pipe up."""
    writers = {e.pid for e in pipe.writers}
    readers = {e.pid for e in pipe.readers}
    unseen = pipe.unseen
    if writers and not readers and unseen != "r":
        if unseen == "?":
            return PipeState("no-reader-seen", "no reader seen", "No process ipctop could inspect has it open "
                             "for reading, and the kernel could not be asked whether another has.", False)
        return PipeState("no-reader", "no reader → SIGPIPE", "No process has it open for reading: "
                         "the next write raises SIGPIPE (or fails with EPIPE).", True, min(writers))
    if readers and not writers and unseen != "w":
        if unseen == "?":
            return PipeState("no-writer-seen", "no writer seen", "No process ipctop could inspect has it open "
                             "for writing, and the kernel could not be asked whether another has.")
        return PipeState("no-writer", "no writer → EOF", "No process has it open for writing: "
                         "a read returns end of file once the bytes waiting are read.")
    writer = _blocked(pipe.waiters, "w")
    if writer is not None:
        guess = "" if writer.exact else "?"
        stopped = _all_stopped(readers, processes) if not unseen else None
        if stopped:
            return PipeState("reader-stopped", f"reader stopped (full){guess}", f"{_who(writer, 'write')}: "
                             f"the pipe is full and {_stopped_words(stopped, processes or {}, 'reader')}.",
                             True, stopped[0])
        return PipeState("writer-blocked", f"writer blocked (full){guess}", f"{_who(writer, 'write')}: "
                         "the pipe is full and nobody reads it.", True, writer.pid)
    reader = _blocked(pipe.waiters, "r")
    if reader is not None and not pipe.fill:
        guess = "" if reader.exact else "?"
        stopped = _all_stopped(writers, processes) if not unseen else None
        if stopped:
            return PipeState("writer-stopped", f"writer stopped (empty){guess}", f"{_who(reader, 'read')}: "
                             f"the pipe is empty and {_stopped_words(stopped, processes or {}, 'writer')}.",
                             True, stopped[0])
        return PipeState("reader-blocked", f"reader blocked (empty){guess}", f"{_who(reader, 'read')}: "
                         "the pipe is empty and no one writes to it.", False, reader.pid)
    openers = sorted((w for w in pipe.waiters if w.call in OPEN_CALLS), key=lambda w: (w.pid, w.tid))
    if openers and not pipe.ends:
        opener = openers[0]
        missing = "reader" if opener.mode == "w" else "writer"
        return PipeState("opener-blocked", f"blocked in open (no {missing})", f"Process {opener.pid} is blocked "
                         f"in open() until a {missing} opens the FIFO; nobody has it open yet.", False, opener.pid)
    if pipe.fill:
        return PipeState("data", "data waiting", "Bytes are waiting to be read; nobody is blocked.")
    return PipeState("idle", "idle", "Empty, with both ends open; nobody is blocked on it.")
