"""Pane 4: pipes and FIFOs — who writes into what, how full it is, and who is stuck.

A pipe that is one link of a chain of processes (a shell pipeline) shows the
whole chain with its own link drawn bold, so `a | b | c` reads as a, b, c.
"""

from __future__ import annotations

from rich.text import Text

from ipctop.model import Fifo, Pipe, Snapshot
from ipctop.pipelines import Chain, chains, pipe_state
from ipctop.render.formatting import human_bytes
from ipctop.tui.panes.base import Pane, shorten, who
from ipctop.tui.panes.cells import gauge_cell, waiters_cell
from ipctop.tui.rows import Cell, Column, Row
from ipctop.tui.state import MonitorState

THIS_LINK = " ━▶ "
OTHER_LINK = " ─▷ "


def chain_text(snapshot: Snapshot, chain: Chain, inode: int) -> Text:
    text = Text()
    for i, pid in enumerate(chain.pids):
        if i:
            this = chain.inodes[i - 1] == inode
            text.append(THIS_LINK if this else OTHER_LINK, style="bold" if this else "dim")
        text.append(who(snapshot, pid))
    return text


def ends_text(snapshot: Snapshot, pipe: Pipe | Fifo) -> Text:
    writers = [who(snapshot, pid) for pid in dict.fromkeys(e.pid for e in pipe.writers)]
    readers = [who(snapshot, pid) for pid in dict.fromkeys(e.pid for e in pipe.readers)]
    text = Text(shorten(writers, 30) if writers else "(no writer)", style="" if writers else "dim")
    text.append(THIS_LINK, style="bold")
    text.append(shorten(readers, 30) if readers else "(no reader)", style="" if readers else "dim")
    return text


def short_path(path: str, limit: int = 24) -> str:
    return path if len(path) <= limit else "…" + path[-(limit - 1) :]


class PipesPane(Pane):
    pane_id = "pipes"
    title = "Pipes"
    empty_text = "No pipes or FIFOs held by processes ipctop can inspect."
    default_sort = "flow"
    columns = (
        Column("name", "Pipe/FIFO"),
        Column("state", "State"),
        Column("flow", "Writer ━▶ reader"),
        Column("fill", "Fill", 13),
        Column("waiting", "Bytes", 11),
        Column("waiters", "Blocked"),
    )

    def build_rows(self, state: MonitorState) -> list[Row]:
        snapshot = state.snapshot
        assert snapshot is not None
        found = chains(snapshot)
        position = {inode: (n, i) for n, chain in enumerate(found) for i, inode in enumerate(chain.inodes)}
        rows = []
        for kind, table in (("pipe", snapshot.pipes), ("fifo", snapshot.fifos)):
            for inode, pipe in table.items():
                chain = found[position[inode][0]] if kind == "pipe" and inode in position else None
                rows.append(self._row(snapshot, kind, pipe, chain, position.get(inode)))
        return rows

    def _row(self, snapshot: Snapshot, kind: str, pipe: Pipe | Fifo, chain: Chain | None, place) -> Row:  # type: ignore[no-untyped-def]
        name = short_path(pipe.path) if isinstance(pipe, Fifo) else str(pipe.inode)
        flow = chain_text(snapshot, chain, pipe.inode) if chain else ends_text(snapshot, pipe)
        # Chains first and in order, then the other pipes, then FIFOs.
        flow_order = (0, *place) if place else (1 if kind == "pipe" else 2, flow.plain.lower(), pipe.inode)
        end_state = pipe_state(pipe)
        waiting = "-" if pipe.fill is None else f"{human_bytes(pipe.fill)}/{human_bytes(pipe.capacity)}"
        role = "alert" if end_state.alert else "muted" if end_state.code == "idle" else None
        cells = (
            Cell(name, sort=(kind, name)),
            Cell(end_state.text, sort=(not end_state.alert, end_state.code), role=role),
            Cell(flow, sort=flow_order),
            gauge_cell(pipe.fill, pipe.capacity),
            Cell(waiting, sort=pipe.fill if pipe.fill is not None else -1, justify="right"),
            waiters_cell(pipe.waiters, show="call"),
        )
        return Row(f"{kind}:{pipe.inode}", pipe, cells, search=f"{kind} {pipe.inode} {getattr(pipe, 'path', '')}")
