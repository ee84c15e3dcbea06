"""Pane 6: the log of what the diff saw between scans, newest first; the same change to one object by
several processes in one scan is one line (`mapped ×5`), naming them all."""

from __future__ import annotations

import time

from ipctop.diff import EventKind
from ipctop.tui.panes.base import Pane
from ipctop.tui.rows import Cell, Column, Role, Row
from ipctop.tui.state import LoggedEvent, MonitorState

KIND_ROLES: dict[EventKind, Role] = {
    EventKind.CREATED: "good",
    EventKind.REMOVED: "alert",
    EventKind.MARKED_FOR_REMOVAL: "warn",
    EventKind.PROCESS_EXITED: "muted",
    EventKind.END_CLOSED: "muted",
    EventKind.END_MOVED: "muted",
}


class EventsPane(Pane):
    pane_id = "events"
    title = "Events"
    empty_text = "No changes seen yet: events appear here as objects come, change and go."
    default_sort = "time"
    default_reverse = True
    columns = (
        Column("time", "Time", 8),
        Column("kind", "Event"),
        Column("object", "Object", shrink_to=12),
        Column("process", "Process", priority=1, shrink_to=12),
        Column("detail", "Detail", priority=2, shrink_to=12),
    )

    def build_rows(self, state: MonitorState) -> list[Row]:
        return [self._row(logged, state) for logged in state.events]

    def _row(self, logged: LoggedEvent, state: MonitorState) -> Row:
        assert state.snapshot is not None
        event = logged.event
        cells = (
            Cell(time.strftime("%H:%M:%S", time.localtime(event.time)), sort=logged.seq),
            Cell(event.kind.value + (f" ×{logged.count}" if logged.count > 1 else ""), role=KIND_ROLES.get(event.kind)),
            Cell(logged.object_label, sort=(event.object_kind, event.object_id)),
            Cell(logged.who, sort=event.pid or 0),
            Cell(logged.detail),
        )
        return Row(f"e{logged.seq}", event, cells)
