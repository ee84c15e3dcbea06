"""The shape of a pane's table: columns, cells that know how they sort, and keyed rows.

A pane builds `Row`s from a snapshot; the keyed table (widgets/object_table.py)
turns them into DataTable rows and cell updates.  Styles are named by role
("alert", "warn", "good", "muted") and resolved from the theme by the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text

from ipctop.render.formatting import age

Role = Literal["alert", "warn", "good", "muted", "strong", "demo"] | None  # demo: made by the running demo
Justify = Literal["left", "right", "center"]


class Cell(Text):
    """A table cell: rich text plus the value it sorts by and a style role."""

    __slots__ = ("role", "sort_key")  # no __dict__: a big table holds hundreds of thousands of cells

    def __init__(self, text: str | Text, sort: Any = None, role: Role = None, justify: Justify = "left") -> None:
        if isinstance(text, Text):
            super().__init__(justify=justify, no_wrap=True, end="")
            self.append_text(text)
        else:
            super().__init__(text, justify=justify, no_wrap=True, end="")
        self.sort_key: Any = sort if sort is not None else self.plain.lower()
        self.role: Role = role

    def same_as(self, other: Cell) -> bool:
        return self.plain == other.plain and self.role == other.role and self.spans == other.spans


class AgeCell(Cell):
    """The age of something since `since`: it sorts by `since` alone and is drawn as of the table's
    time (`at(now)`), so a row whose object did not change need not be rebuilt each scan."""

    __slots__ = ("since",)

    def __init__(self, since: float, now: float, role: Role = None) -> None:
        super().__init__(age(since, now), sort=-since, role=role, justify="right")
        self.since = since

    def at(self, now: float) -> Cell:
        return AgeCell(self.since, now, self.role)

    def same_as(self, other: Cell) -> bool:
        return isinstance(other, AgeCell) and self.since == other.since and self.role == other.role


def num(value: int | float | None, text: str | None = None, role: Role = None) -> Cell:
    """A right-aligned number; `text` shows it differently (e.g. human bytes) but it sorts by value."""
    if value is None:
        return Cell("-", sort=-1, role="muted", justify="right")
    return Cell(text if text is not None else str(value), sort=value, role=role, justify="right")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int | None = None  # fixed width (numbers); None grows with the content
    volatile: bool = False  # changes every scan (ages): never highlighted as a change


@dataclass(frozen=True, slots=True)
class Row:
    key: str  # unique in the pane: the object's id
    obj: Any  # the model object the row shows (for detail and actions); None for group lines
    cells: tuple[Cell, ...]
    role: Role = None  # a style for the whole row ("alert": someone is blocked)
    search: str = ""  # extra text the filter matches besides the cells
    parent: str | None = None  # key of the row it hangs under (a tree); kept when a child matches the filter

    @property
    def text(self) -> str:
        return " ".join(c.plain for c in self.cells) + " " + self.search
