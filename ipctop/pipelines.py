"""How pipes read to a person: chains of processes, and the state of a pipe's ends.

`sleep 1000 | sleep 2000 | sleep 3000` is two pipes; joined by the process that
reads one and writes the next they read as one chain of three processes.  The
state of a pipe says who is stuck and why, from the ends that are open, the bytes
waiting and where the processes sleep (wchan).  Pure: no textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ipctop.model import Fifo, Pipe, Process, Snapshot

PIPE_BUF = 4096  # a write up to this size is atomic: it waits until that much room is free
# Where a process sleeps when blocked on a pipe: Linux 6.x says anon_pipe_* (also for FIFOs), older ones pipe_*.
WRITE_WAITS = frozenset({"pipe_write", "anon_pipe_write"})
READ_WAITS = frozenset({"pipe_read", "anon_pipe_read"})


@dataclass(frozen=True, slots=True)
class Chain:
    """Processes joined by pipes, each writing into the next: pids[i] -> inodes[i] -> pids[i+1]."""

    pids: tuple[int, ...]
    inodes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PipeState:
    """What is going on at a pipe's ends, in one phrase; `alert` when someone is stuck or will fail."""

    code: str  # writer-blocked, reader-blocked, no-reader, no-writer, data, idle
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


def _nearly_full(pipe: Pipe | Fifo) -> bool:
    """Too full for one more atomic write; unknown counts as full (a writer in pipe_write tells)."""
    if pipe.fill is None or pipe.capacity is None:
        return True
    return pipe.fill > pipe.capacity - PIPE_BUF


def pipe_state(pipe: Pipe | Fifo, processes: Mapping[int, Process]) -> PipeState:
    """The state of the ends of `pipe`, judged from who holds them and where they sleep."""
    writers = {e.pid for e in pipe.writers}
    readers = {e.pid for e in pipe.readers}
    if writers and not readers:
        return PipeState("no-reader", "no reader → SIGPIPE", "No process has it open for reading: "
                         "the next write raises SIGPIPE (or fails with EPIPE).", True, min(writers))
    if readers and not writers:
        return PipeState("no-writer", "no writer → EOF", "No process has it open for writing: "
                         "a read returns end of file once the bytes waiting are read.")
    if _nearly_full(pipe):
        for pid in sorted(writers):
            process = processes.get(pid)
            if process and process.wchan in WRITE_WAITS:
                return PipeState("writer-blocked", "writer blocked (full)", f"Process {pid} is blocked "
                                 "in write: the pipe is full and nobody reads it.", True, pid)
    for pid in sorted(readers):
        process = processes.get(pid)
        if process and process.wchan in READ_WAITS and not pipe.fill:
            return PipeState("reader-blocked", "reader blocked (empty)", f"Process {pid} is blocked "
                             "in read: the pipe is empty and no one writes to it.", False, pid)
    if pipe.fill:
        return PipeState("data", "data waiting", "Bytes are waiting to be read; nobody is blocked.")
    return PipeState("idle", "idle", "Empty, with both ends open; nobody is blocked on it.")
