"""Enter on a row: every field of the object, the processes using it, and its lifetime.

The screen follows the object live: each scan re-describes it from the latest
snapshot (or from the last copy seen, once it is gone).  A segment's first bytes
show as a hex dump (ipctop/actions/shm_contents.py), read without side effects.  Escape returns.
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

from ipctop.actions.holdings import Holdings
from ipctop.actions.posix_contents import read_posix_contents
from ipctop.actions.shm_contents import ATTACH_COST, Contents, read_contents
from ipctop.kernel.ipcns import Target, Unenterable, run_in
from ipctop.model import ShmSegment
from ipctop.render.escape import printable
from ipctop.render.procinfo import label
from ipctop.render.waits import waits_cell_text
from ipctop.tui.details import Detail, describe, lookup, users_by_process
from ipctop.tui.forms.confirm import ConfirmScreen
from ipctop.tui.state import Update
from ipctop.tui.users_table import UserRow, UsersTable

if TYPE_CHECKING:
    from ipctop.tui.interfaces import Monitor

POSIX_CONTENTS = ("pshm", "memfd")  # kinds whose bytes the detail shows (ipctop/actions/posix_contents.py)


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _plain(text: str, style: str = "") -> Text:
    """Text from the machine (names, paths, command lines): escaped, and never read as markup."""
    return Text(printable(text), style=style)


def detail_renderable(detail: Detail, app: Monitor, contents: Contents | None = None, ipc_ns: int = 0) -> Group:
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

    users_title = "Processes using it" if detail.kind != "process" else "Other processes on its pipes and FIFOs"
    parts.append(_section(users_title))
    if detail.users and snapshot is not None:
        rows = []
        for pid, how in users_by_process(detail.users):
            process = snapshot.known_processes.get(pid)
            alive = snapshot.is_alive(pid)
            name = label(pid, snapshot.known_processes) if process else "?"
            user = process.user if process else "-"
            waits = waits_cell_text(process.waits, snapshot.fifos) if process else ""
            run = f"{process.state} {waits}".strip() if process else ("alive" if alive else "gone")
            gone = "zombie, not yet reaped" if snapshot.is_zombie(pid) else "gone"
            rows.append(UserRow(str(pid), name, user, run if alive else gone, how))
        parts.append(UsersTable(rows))
    else:
        parts.append(Text("none seen", style="italic"))

    if contents is not None:
        parts.append(_section("Contents"))
        if contents.needs_attach:
            key = "(--readonly: not read)" if app.readonly else "(r: attach and read it, after asking)"
        else:
            key = "(read again at every scan)" if contents.free else "(r reads it again)"
        parts.append(Text(f"{contents.note} {key}", style="italic"))
        parts += [_plain(line) for line in contents.lines]

    parts.append(_section("Lifetime as seen by ipctop"))
    timeline = state.timeline
    lifetime = timeline.lifetime(detail.kind, detail.ident, ipc_ns)
    if timeline.forgotten(detail.kind, detail.ident, ipc_ns):
        which = "Its earlier history was" if lifetime else "Its history was"
        parts.append(Text(f"{which} dropped: ipctop keeps the lifetimes of the {timeline.max_objects} objects "
                          "most recently active, and this one was quiet longer.", style="italic"))  # fmt: skip
    dropped = timeline.dropped(detail.kind, detail.ident, ipc_ns)
    if lifetime and dropped:
        parts.append(Text(f"{dropped} entries after the first were dropped: ipctop keeps the first and the "
                          f"latest {timeline.max_entries - 1}.", style="italic"))  # fmt: skip
    if lifetime:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("Time", "What", "PID", "Detail"):
            table.add_column(column, no_wrap=column != "Detail")
        for entry in lifetime:
            table.add_row(*map(_plain, (time.strftime("%H:%M:%S", time.localtime(entry.time)), entry.what,
                                        str(entry.pid or ""), entry.detail)))  # fmt: skip
        parts.append(table)
    elif not timeline.forgotten(detail.kind, detail.ident):
        parts.append(Text("nothing recorded yet", style="italic"))
    return Group(*parts)


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
        Binding("r", "reread", "Read again", show=False),
    ]

    def __init__(self, kind: str, ident: int, last_known: object | None, ipc_ns: int = 0) -> None:
        super().__init__()
        self.kind = kind
        self.ident = ident
        self.last_known = last_known
        self.ipc_ns = ipc_ns  # the inode of its IPC namespace, when that is not ipctop's own
        self.contents: Contents | None = None

    @property
    def ipctop(self) -> Monitor:
        return self.app  # type: ignore[return-value]  # the app implements Monitor

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(id="detail-body")
        yield Footer()

    def on_mount(self) -> None:
        self.ipctop.updated.subscribe(self, self._scan_arrived)
        self.action_reread()

    def _scan_arrived(self, update: Update) -> None:
        # Read again when that changes nothing (ipctop's attachment, another process's mapping);
        # nothing to show once it is gone.
        contents = self.contents
        gone = lookup(update.snapshot, self.kind, self.ident, self.ipc_ns) is None
        if self.kind == "shm" and (contents is None or contents.free or gone):
            self.read_contents()
        elif self.kind in POSIX_CONTENTS:
            self.read_contents()  # changes nothing: read again at every scan
        self.show_detail()

    def action_reread(self) -> None:
        if self.contents is not None and self.contents.needs_attach:
            self._ask_to_attach()
            return
        self.read_contents()
        self.show_detail()

    def _ask_to_attach(self) -> None:
        if self.ipctop.readonly:
            self.notify("Reading it would attach it (ipctop would become its last user): --readonly does not allow it.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.read_contents(attach=True)
                self.show_detail()

        question = f"Read segment {self.ident}? {ATTACH_COST}"
        self.app.push_screen(ConfirmScreen(question, title="Attach to read", danger=False), answered)

    def read_contents(self, attach: bool = False) -> None:
        snapshot = self.ipctop.state.snapshot
        if self.kind in POSIX_CONTENTS:
            obj = getattr(snapshot, self.kind).get(self.ident) if snapshot is not None else None
            self.contents = read_posix_contents(obj) if obj is not None else None
            return
        found = None
        if snapshot is not None and self.kind == "shm":
            found = lookup(snapshot, "shm", self.ident, self.ipc_ns)
        segment = found if isinstance(found, ShmSegment) else None
        if segment is None:
            self.contents = None
        elif not self.ipc_ns:
            self.contents = read_contents(segment, self.ipctop.holdings, attach=attach)
        else:
            # of another namespace: ipctop holds none of its segments, and attaching is done inside it
            namespace = snapshot.namespace(self.ipc_ns)  # type: ignore[union-attr]
            target = Target(self.ipc_ns, namespace.members if namespace is not None else ())
            try:
                self.contents = run_in(target, read_contents, segment, Holdings(), attach=attach)
            except Unenterable as refusal:
                self.contents = Contents((), str(refusal), held=False, free=False)

    @property
    def detail(self) -> Detail | None:
        snapshot = self.ipctop.state.snapshot
        if snapshot is None:
            return None
        return describe(self.kind, self.ident, snapshot, self.last_known, self.ipc_ns)

    def show_detail(self) -> None:
        detail = self.detail
        if detail is not None:
            self.query_one("#detail-body", Static).update(
                detail_renderable(detail, self.ipctop, self.contents, self.ipc_ns))
