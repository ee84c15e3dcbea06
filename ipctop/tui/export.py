"""What `E` writes: the rows of the current pane as shown (its filter and sort), as text or JSON.

Text is the table as on a terminal wide enough for every column: the header and
each row, every column whole.  JSON has the columns, each row's cells as shown
and its object as `ipctop list --json` gives it.  The file is created new (an
existing one is never overwritten) and written whole or not at all.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.cells import cell_len

from ipctop.render.jsonout import object_to_dict
from ipctop.tui.rows import AgeCell, Column, Row


@dataclass(frozen=True, slots=True)
class ExportChoice:
    """What the export form returns: where, and in which format."""

    path: str
    as_json: bool


class ExportError(Exception):
    """The file cannot be written: `str()` is one sentence."""


def default_name(pane_id: str, as_json: bool, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"ipctop-{pane_id}-{stamp}.{'json' if as_json else 'txt'}"


def cell_texts(row: Row, now: float, keep: Sequence[int]) -> list[str]:
    cells = row.cells
    return [cells[i].text_at(now) if isinstance(cells[i], AgeCell) else cells[i].plain for i in keep]


def _kept(columns: Sequence[Column], hidden: frozenset[str]) -> list[int]:
    return [i for i, column in enumerate(columns) if column.key not in hidden]


def as_text(columns: Sequence[Column], rows: Sequence[Row], now: float, hidden: frozenset[str] = frozenset()) -> str:
    """The rows as an aligned table, every column whole (but those the user hid)."""
    keep = _kept(columns, hidden)
    table = [[columns[i].label for i in keep], *(cell_texts(row, now, keep) for row in rows)]
    widths = [max(cell_len(line[n]) for line in table) for n in range(len(keep))]
    right = [bool(rows) and rows[0].cells[i].justify == "right" for i in keep]
    lines = []
    for line in table:
        cells = [
            " " * (w - cell_len(text)) + text if r else text + " " * (w - cell_len(text))
            for text, w, r in zip(line, widths, right, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def as_json(pane_id: str, title: str, columns: Sequence[Column], rows: Sequence[Row], now: float,
            filter_text: str, sort: str | None, reverse: bool,
            hidden: frozenset[str] = frozenset()) -> str:  # fmt: skip
    """The rows with their cells as shown and their objects as `ipctop list --json` gives them."""
    keep = _kept(columns, hidden)
    keys = [columns[i].key for i in keep]
    document = {
        "pane": pane_id,
        "title": title,
        "time": now,
        "filter": filter_text,
        "sort": {"column": sort, "reverse": reverse},
        "columns": [{"key": columns[i].key, "label": columns[i].label} for i in keep],
        "rows": [
            {
                "cells": dict(zip(keys, cell_texts(row, now, keep), strict=True)),
                "object": object_to_dict(row.obj) if row.obj is not None else None,
            }
            for row in rows
        ],
    }
    return json.dumps(document, indent=2, default=str) + "\n"


def write_new(path: str, text: str) -> Path:
    """Create `path` (after ~ is expanded) with `text`; ExportError if it exists or cannot be written."""
    target = Path(os.path.expanduser(path))
    if not path.strip():
        raise ExportError("No file named: give a path to write to.")
    try:
        file = open(target, "x", encoding="utf-8")  # noqa: SIM115 - closed below, removed if half written
    except FileExistsError:
        raise ExportError(f"{target} exists already: choose another name (ipctop never overwrites one).") from None
    except OSError as error:
        raise ExportError(f"Cannot write {target}: {_reason(error)}.") from None
    try:
        with file:
            file.write(text)
    except OSError as error:
        target.unlink(missing_ok=True)
        raise ExportError(f"Cannot write {target}: {_reason(error)}.") from None
    return target.resolve()


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()
