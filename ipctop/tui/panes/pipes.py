"""Pane 4: pipes and FIFOs — who writes into what, how full it is, and who is stuck.

A pipe that is one link of a chain of processes (a shell pipeline) shows the
whole chain with its own link drawn bold, so `a | b | c` reads as a, b, c.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from ipctop.model import Fifo, Pipe, Process, Snapshot
from ipctop.pipelines import Chain, chains, pipe_state
from ipctop.render.escape import printable
from ipctop.render.fit import ELLIPSIS, ellipsize_label, fit_list
from ipctop.render.formatting import human_bytes
from ipctop.tui.panes.base import Pane, brief, changed_pids, who
from ipctop.tui.panes.cells import gauge_cell, waiters_cell
from ipctop.tui.rows import Cell, Column, Row
from ipctop.tui.state import MonitorState

THIS_LINK = " ━▶ "
OTHER_LINK = " ─▷ "
NO_WRITER = "(no writer)"
NO_READER = "(no reader)"
# a side with no end seen that the kernel says is held all the same, or that could not be asked (Pipe.unseen)
UNSEEN = {("w", "w"): "(writer unseen)", ("r", "r"): "(reader unseen)",
          ("w", "?"): "(no writer seen)", ("r", "?"): "(no reader seen)"}


def no_end(pipe: Pipe | Fifo, side: str) -> str:
    """What stands for `side` ("w" or "r") of `pipe` when no end of it was seen."""
    return UNSEEN.get((side, pipe.unseen), NO_WRITER if side == "w" else NO_READER)


def chain_text(names: tuple[str, ...], link: int, first: int = 0, last: int | None = None) -> Text:
    """Processes `names[first..last]` of a chain joined by their pipes, pipe `link` (between
    names[link] and names[link + 1]) drawn bold; `…` where the chain goes on."""
    last = len(names) - 1 if last is None else last
    text = Text()
    if first > 0:
        text.append(ELLIPSIS + OTHER_LINK, style="dim")
    for i in range(first, last + 1):
        if i > first:
            this = i - 1 == link
            text.append(THIS_LINK if this else OTHER_LINK, style="bold" if this else "dim")
        text.append(names[i])
    if last < len(names) - 1:
        text.append(OTHER_LINK + ELLIPSIS, style="dim")
    return text


class ChainCell(Cell):
    """A pipe that is one link of a chain of processes: the whole chain, or in a narrow column
    the two processes at its ends (`… ─▷ b ━▶ c ─▷ …`), their names cut if need be."""

    __slots__ = ("briefly", "link", "names")

    def __init__(self, names: list[str], link: int, sort: object, briefly: list[str]) -> None:
        super().__init__(chain_text(tuple(names), link), sort=sort)
        # cut apart when narrow: escaped apart too (the whole is escaped by Cell)
        self.names, self.link, self.briefly = tuple(map(printable, names)), link, tuple(map(printable, briefly))

    def fitted(self, width: int) -> Text:
        if self.cell_len <= width:
            return self.as_text()
        for names in (self.names, self.briefly):  # named in full, then by comm
            around = chain_text(names, self.link, self.link, self.link + 1)
            if around.cell_len <= width:
                return around
        writer, reader = self.names[self.link], self.names[self.link + 1]
        room = max(0, width - len(THIS_LINK))
        room_w = min(len(writer), max(room // 2, room - len(reader)))
        return chain_text((ellipsize_label(writer, room_w), ellipsize_label(reader, room - room_w)), 0)


def named(pipe: Pipe | Fifo, chain: Chain | None) -> set[int]:
    """The processes a pipe's row names: its ends, who waits on it, its chain."""
    pids = {end.pid for end in pipe.ends} | {wait.pid for wait in pipe.waiters}
    return pids | set(chain.pids) if chain is not None else pids


def ends_text(writers: str, readers: str, no_ends: tuple[str, str] = (NO_WRITER, NO_READER)) -> Text:
    text = Text(writers or no_ends[0], style="" if writers else "dim")
    text.append(THIS_LINK, style="bold")
    text.append(readers or no_ends[1], style="" if readers else "dim")
    return text


class FlowCell(Cell):
    """`writers ━▶ readers`; in a narrow column each side keeps as many processes as fit, then `+N`."""

    __slots__ = ("briefly", "no_ends", "readers", "writers")

    def __init__(
        self, writers: list[str], readers: list[str], sort: object, briefly: tuple[list[str], list[str]],
        no_ends: tuple[str, str] = (NO_WRITER, NO_READER),
    ) -> None:
        super().__init__(ends_text(", ".join(writers), ", ".join(readers), no_ends), sort=sort)
        self.no_ends = no_ends
        # cut apart when narrow: escaped apart too (the whole is escaped by Cell)
        self.writers, self.readers = tuple(map(printable, writers)), tuple(map(printable, readers))
        self.briefly = [printable(name) for name in briefly[0]], [printable(name) for name in briefly[1]]  # by comm

    def fitted(self, width: int) -> Text:
        if self.cell_len <= width:
            return self.as_text()
        room = max(0, width - len(THIS_LINK))
        need_w = len(", ".join(self.writers)) or len(self.no_ends[0])
        need_r = len(", ".join(self.readers)) or len(self.no_ends[1])
        # Half each; what one side does not need goes to the other.
        room_w = min(need_w, max(room // 2, room - need_r))
        short_w, short_r = self.briefly
        writers = fit_list(self.writers, room_w, short=short_w)
        text = ends_text(writers, fit_list(self.readers, room - room_w, short=short_r), self.no_ends)
        if text.cell_len > width:
            text.truncate(width, overflow="ellipsis")
        return text


class PathCell(Cell):
    """A FIFO's path: cut at its start (`…/app/ctl.fifo`), where paths are alike."""

    __slots__ = ()

    def fitted(self, width: int) -> str:
        if len(self.plain) <= width:
            return self.plain
        return ELLIPSIS + self.plain[len(self.plain) - width + 1 :] if width > 1 else ELLIPSIS[:width]


class PipesPane(Pane):
    pane_id = "pipes"
    title = "Pipes"
    empty_text = "No pipes or FIFOs held by processes ipctop can inspect."
    default_sort = "flow"
    columns = (
        Column("name", "Pipe/FIFO", priority=1, shrink_to=12),  # after the flow when room is shared
        Column("state", "State"),
        Column("flow", "Writer ━▶ reader", shrink_to=20),
        Column("fill", "Fill", 13, priority=1),
        Column("waiting", "Bytes", priority=2),
        Column("waiters", "Blocked", priority=2, shrink_to=14),
    )

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[str, tuple[Pipe | Fifo, object, Row]] = {}  # row key -> (its pipe, chain and place, row)
        self._processes: Mapping[int, Process] = {}  # the processes the cached rows name

    def build_rows(self, state: MonitorState) -> list[Row]:
        snapshot = state.snapshot
        assert snapshot is not None
        found = chains(snapshot)
        position = {inode: (n, i) for n, chain in enumerate(found) for i, inode in enumerate(chain.inodes)}
        # A pipe the scan did not change is the same object as last scan: its row is reused while
        # its place in a chain is the same and no process it names changed (a new title, or gone).
        changed = changed_pids(self._processes, snapshot.known_processes)
        self._processes = snapshot.known_processes
        previous, cache = self._cache, {}
        rows = []
        for kind, table in (("pipe", snapshot.pipes), ("fifo", snapshot.fifos)):
            for inode, pipe in table.items():
                place = position.get(inode) if kind == "pipe" else None
                chain = found[place[0]] if place is not None else None
                shape = (chain, place) if chain is not None else None  # place: the chain's order, and the link's
                key = f"{kind}:{pipe.inode}"
                hit = previous.get(key)
                same = hit is not None and hit[0] is pipe and hit[1] == shape
                if same and not (changed and changed & named(pipe, chain)):
                    row = hit[2]  # type: ignore[index]
                else:
                    row = self._row(snapshot, kind, pipe, chain, place)
                cache[key] = (pipe, shape, row)
                rows.append(row)
        self._cache = cache
        return rows

    def _row(self, snapshot: Snapshot, kind: str, pipe: Pipe | Fifo, chain: Chain | None, place) -> Row:  # type: ignore[no-untyped-def]
        name = pipe.path if isinstance(pipe, Fifo) else str(pipe.inode)
        writer_pids = list(dict.fromkeys(e.pid for e in pipe.writers))
        reader_pids = list(dict.fromkeys(e.pid for e in pipe.readers))
        writers = [who(snapshot, pid) for pid in writer_pids]
        readers = [who(snapshot, pid) for pid in reader_pids]
        # Chains first and in order, then the other pipes, then FIFOs.
        if chain:
            names = [who(snapshot, pid) for pid in chain.pids]
            briefly = [brief(snapshot, pid) for pid in chain.pids]
            flow: Cell = ChainCell(names, chain.inodes.index(pipe.inode), sort=(0, *place), briefly=briefly)
        else:
            order = (1 if kind == "pipe" else 2, f"{', '.join(writers)} {', '.join(readers)}".lower(), pipe.inode)
            briefly = ([brief(snapshot, pid) for pid in writer_pids], [brief(snapshot, pid) for pid in reader_pids])
            flow = FlowCell(writers, readers, sort=order, briefly=briefly,
                            no_ends=(no_end(pipe, "w"), no_end(pipe, "r")))
        end_state = pipe_state(pipe, snapshot.known_processes)
        waiting = "-" if pipe.fill is None else f"{human_bytes(pipe.fill)}/{human_bytes(pipe.capacity)}"
        role = "alert" if end_state.alert else "muted" if end_state.code == "idle" else None
        cells = (
            PathCell(name, sort=(kind, name)),
            Cell(end_state.text, sort=(not end_state.alert, end_state.code), role=role),
            flow,
            gauge_cell(pipe.fill, pipe.capacity),
            Cell(waiting, sort=pipe.fill if pipe.fill is not None else -1, justify="right"),
            waiters_cell(snapshot, pipe.waiters, show="call"),
        )
        return Row(f"{kind}:{pipe.inode}", pipe, cells, search=f"{kind} {pipe.inode} {getattr(pipe, 'path', '')}")
