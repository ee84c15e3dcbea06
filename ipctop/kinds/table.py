"""A kind's table for `ipctop list`: its columns, fitted to the terminal as the other tables are."""

from __future__ import annotations

from ipctop.kinds.base import ObjectKind
from ipctop.model import Snapshot
from ipctop.render.procinfo import brief_label, label
from ipctop.render.tables import Cell, Col, Listed, fitted_table


def kind_table(kind: ObjectKind, snapshot: Snapshot, width: int | None = None) -> str:
    """The table of one kind of ipctop/kinds/, from its columns; the holders as a list that fits."""
    columns = [Col(c.header, c.priority, c.numeric, c.shrink_to) for c in kind.columns]
    rows = []
    for obj in kind.sorted(snapshot):
        row: list[Cell] = []
        for column in kind.columns:
            if column.key == "holders":
                names = tuple(dict.fromkeys(label(h.pid, snapshot.known_processes, h.comm) for h in obj.holders))
                short = tuple(dict.fromkeys(brief_label(h.pid, snapshot.known_processes, h.comm) for h in obj.holders))
                row.append(Listed(names, short) if names else "-")
            else:
                row.append(column.text(obj))
        rows.append(row)
    return fitted_table(columns, rows, width)
