"""Enter on a row: every field of the object, the processes using it, and its lifetime.

The screen follows the object live: each scan re-describes it from the latest
snapshot (or from the last copy seen, once it is gone).  A segment's first bytes
show as a hex dump (ipctop/tui/shm_contents.py), read again with `r`.  Escape returns.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ipctop.render.escape import printable
from ipctop.render.formatting import proc_label
from ipctop.tui.details import Detail, describe
from ipctop.tui.shm_contents import Contents, read_contents
from ipctop.tui.state import Update

if TYPE_CHECKING:
    from ipctop.tui.app import IpctopApp


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _plain(text: str, style: str = "") -> Text:
    """Text from the machine (names, paths, command lines): escaped, and never read as markup."""
    return Text(printable(text), style=style)


def detail_renderable(detail: Detail, app: IpctopApp, contents: Contents | None = None) -> Group:
    state = app.state
    snapshot = state.snapshot
    parts: list = [_plain(detail.title, style="bold")]
    parts += [_plain(note, style="italic") for note in detail.notes]

    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column()
    for name, value in detail.fields:
        fields.add_row(_plain(name), _plain(value))
    if detail.fields:
        parts += [_section("Fields"), fields]

    parts.append(_section("Processes using it" if detail.kind != "process" else "Processes at the other ends"))
    if detail.users and snapshot is not None:
        users = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("PID", "Process", "User", "State", "How"):
            users.add_column(column, no_wrap=column != "How")
        for pid, how in detail.users:
            process = snapshot.processes.get(pid)
            alive = snapshot.is_alive(pid)
            name = proc_label(process.comm, pid) if process else "?"
            user = process.user if process else "-"
            run = f"{process.state} {process.wchan}".strip() if process else ("alive" if alive else "gone")
            users.add_row(*map(_plain, (str(pid), name, user, run if alive else "gone", how)))
        parts.append(users)
    else:
        parts.append(Text("none seen", style="italic"))

    if contents is not None:
        parts.append(_section("Contents"))
        parts.append(Text(f"{contents.note} (r reads it again)", style="italic"))
        parts += [_plain(line) for line in contents.lines]

    parts.append(_section("Lifetime as seen by ipctop"))
    lifetime = state.timeline.lifetime(detail.kind, detail.ident)
    if lifetime:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("Time", "What", "PID", "Detail"):
            table.add_column(column, no_wrap=column != "Detail")
        for entry in lifetime:
            table.add_row(*map(_plain, (time.strftime("%H:%M:%S", time.localtime(entry.time)), entry.what,
                                        str(entry.pid or ""), entry.detail)))  # fmt: skip
        parts.append(table)
    else:
        parts.append(Text("nothing recorded yet", style="italic"))
    return Group(*parts)


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
        Binding("r", "reread", "Read again", show=False),
    ]

    def __init__(self, kind: str, ident: int, last_known: object | None) -> None:
        super().__init__()
        self.kind = kind
        self.ident = ident
        self.last_known = last_known
        self.contents: Contents | None = None

    @property
    def ipctop(self) -> IpctopApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(id="detail-body")
        yield Footer()

    def on_mount(self) -> None:
        self.ipctop.updated.subscribe(self, self._scan_arrived)
        self.action_reread()

    def _scan_arrived(self, update: Update) -> None:
        # Free to read again when ipctop holds it; nothing to show once it is gone.
        if self.kind == "shm" and (self.ident in self.ipctop.holdings or self.ident not in update.snapshot.shm):
            self.read_contents()
        self.show_detail()

    def action_reread(self) -> None:
        self.read_contents()
        self.show_detail()

    def read_contents(self) -> None:
        snapshot = self.ipctop.state.snapshot
        segment = snapshot.shm.get(self.ident) if snapshot is not None and self.kind == "shm" else None
        self.contents = read_contents(segment, self.ipctop.holdings) if segment is not None else None

    @property
    def detail(self) -> Detail | None:
        snapshot = self.ipctop.state.snapshot
        if snapshot is None:
            return None
        return describe(self.kind, self.ident, snapshot, self.last_known)

    def show_detail(self) -> None:
        detail = self.detail
        if detail is not None:
            self.query_one("#detail-body", Static).update(detail_renderable(detail, self.ipctop, self.contents))
