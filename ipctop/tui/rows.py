"""The shape of a pane's table: columns, cells that know how they sort, and keyed rows.

A pane builds `Row`s from a snapshot; the table (widgets/object_table.py) keeps
them by key and draws the ones on screen.  Styles are named by role ("alert",
"warn", "good", "muted") and resolved from the theme by the table.

Cells are plain strings with a sort value, a role and, rarely, rich spans (a
bold link in a pipeline): a 10,000-row table holds some 100,000 of them, and a
rich `Text` each cost three times the memory of what is drawn from it.

A column says how much it matters and how narrow it may be cut (ipctop/render/fit.py
decides what a screen's width shows); a cell says what it shows in the width it
gets (`fitted`): cut with `…`, or, for a list of processes (`ListCell`), as many as
fit and `+N`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from rich.cells import cell_len, set_cell_size
from rich.text import Span, Text

from ipctop.render.escape import printable
from ipctop.render.fit import ELLIPSIS, fit_list
from ipctop.render.formatting import short_age

Role = Literal["alert", "warn", "good", "muted", "strong", "demo"] | None  # demo: made by the running demo
Justify = Literal["left", "right", "center"]
NO_SPANS: tuple[Span, ...] = ()


class Cell:
    """A table cell: its text, the value it sorts by, a style role, and any rich spans of its own.

    Its text is escaped here (render/escape.py), once for every pane: a process or FIFO name
    from the machine cannot act on the terminal or break the line."""

    __slots__ = ("justify", "plain", "role", "sort_key", "spans")  # no __dict__: a big table holds many

    def __init__(self, text: str | Text, sort: Any = None, role: Role = None, justify: Justify = "left") -> None:
        if isinstance(text, Text):
            spans = list(text.spans)
            if text.style:
                spans.insert(0, Span(0, len(text), text.style))
            self.plain: str = printable(text.plain)
            # Spans count characters: an escaped text is longer, so its spans would be misplaced.
            self.spans: tuple[Span, ...] = tuple(spans) if spans and self.plain == text.plain else NO_SPANS
        else:
            self.plain, self.spans = printable(text), NO_SPANS
        if sort is None:
            lowered = self.plain.lower()
            sort = self.plain if lowered == self.plain else lowered  # one string, not two, when it is lower already
        self.sort_key: Any = sort
        self.role: Role = role
        self.justify: Justify = justify

    @property
    def cell_len(self) -> int:
        return cell_len(self.plain)

    def as_text(self) -> Text:
        """The cell as rich text (its spans, no role style)."""
        return Text(self.plain, spans=list(self.spans), justify=self.justify, no_wrap=True, end="")

    def fitted(self, width: int) -> str | Text:
        """What the cell shows in `width` columns: all of it, or cut with `…` (rich spans kept)."""
        if not self.spans:
            return cut(self.plain, width)
        text = self.as_text()
        if text.cell_len > width:
            text.truncate(width, overflow="ellipsis")
        return text

    def same_as(self, other: Cell) -> bool:
        return self.plain == other.plain and self.role == other.role and self.spans == other.spans

    def sorting_by(self, sort: Any) -> Cell:
        """The same cell sorting by `sort`: copied as it is (its text is not escaped again)."""
        cell = object.__new__(type(self))
        for name in _slots(type(self)):
            object.__setattr__(cell, name, getattr(self, name))
        cell.sort_key = sort
        return cell

    def look(self) -> tuple[Any, ...]:
        """What decides how the cell is drawn (two cells that look the same draw the same line)."""
        return (self.plain, self.role, self.justify, self.spans)

    def __repr__(self) -> str:
        return f"Cell({self.plain!r}, sort={self.sort_key!r}, role={self.role!r})"


class AgeCell(Cell):
    """The age of something since `since`: it sorts by `since` alone and is drawn as of the table's
    time (`text_at(now)`), so a row whose object did not change need not be rebuilt each scan."""

    __slots__ = ("since",)

    def __init__(self, since: float, now: float, role: Role = None) -> None:
        super().__init__(short_age(since, now), sort=-since, role=role, justify="right")
        self.since = since

    def text_at(self, now: float) -> str:
        return short_age(self.since, now)

    def at(self, now: float) -> Cell:
        return AgeCell(self.since, now, self.role)

    def same_as(self, other: Cell) -> bool:
        return isinstance(other, AgeCell) and self.since == other.since and self.role == other.role

    def look(self) -> tuple[Any, ...]:
        return ("age", self.since, self.role)


class ListCell(Cell):
    """Items joined with `, ` (processes, holdings); in a narrow column as many as fit and `+N`,
    named by their `short` forms where those let more be read whole."""

    __slots__ = ("items", "short")

    def __init__(
        self, items: list[str] | tuple[str, ...], sort: Any = None, role: Role = None, short: list[str] | None = None
    ) -> None:
        super().__init__(", ".join(items), sort=len(items) if sort is None else sort, role=role)
        self.items = tuple(map(printable, items))
        self.short = tuple(map(printable, short)) if short is not None and short != items else None

    def fitted(self, width: int) -> str:
        return fit_list(self.items, width, short=self.short)


@cache
def _slots(kind: type) -> tuple[str, ...]:
    """Every slot of a kind of cell, its bases' included."""
    return tuple(name for klass in kind.__mro__ for name in getattr(klass, "__slots__", ()))


def cut(text: str, width: int) -> str:
    """`text` in `width` cells, its last one `…` when it is longer."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + ELLIPSIS if width > 0 else ""


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
    priority: int = 0  # 0: always shown; a narrow screen leaves out the highest numbers first
    shrink_to: int | None = None  # a text column may be cut down to this width; None: never cut


@dataclass(frozen=True, slots=True)
class Row:
    key: str  # unique in the pane: the object's id
    obj: Any  # the model object the row shows (for detail and actions); None for group lines
    cells: tuple[Cell, ...]
    role: Role = None  # a style for the whole row ("alert": someone is blocked)
    search: str = ""  # extra text the filter matches besides the cells
    parent: str | None = None  # key of the row it hangs under (a tree); kept when a child matches the filter
    gone_since: float | None = None  # what it shows vanished then (kept one scan in its place): drawn as fading
    # Worked out once per row when first asked (a row is never changed once made):
    _look: tuple[Any, ...] | None = field(default=None, init=False, compare=False, repr=False)
    _widths: tuple[int, ...] | None = field(default=None, init=False, compare=False, repr=False)
    _words: tuple[str | AgeCell, ...] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def text(self) -> str:
        return " ".join(c.plain for c in self.cells) + " " + self.search

    def sorting_by(self, sort: Any) -> Row:
        """The row with its first cell sorting by `sort` (its place in a tree), drawn the same: what was
        worked out of how it is drawn (look, widths, filter text) goes with it, not worked out again."""
        row = Row(self.key, self.obj, (self.cells[0].sorting_by(sort), *self.cells[1:]), self.role, self.search,
                  self.parent, self.gone_since)  # fmt: skip
        for name in ("_look", "_widths", "_words"):
            object.__setattr__(row, name, getattr(self, name))
        return row

    @property
    def look(self) -> tuple[Any, ...]:
        """What decides how the row is drawn, ages apart (they are drawn as of the table's time)."""
        if self._look is None:
            object.__setattr__(self, "_look", (self.role, *(cell.look() for cell in self.cells)))
        return self._look  # type: ignore[return-value]

    @property
    def widths(self) -> tuple[int, ...]:
        """Each cell's width on screen (an age's as when the row was made)."""
        if self._widths is None:
            object.__setattr__(self, "_widths", tuple(cell_len(cell.plain) for cell in self.cells))
        return self._widths  # type: ignore[return-value]

    def search_text(self, now: float) -> str:
        """What the filter matches, lower case: the cells as shown at `now` (ages), and the search text."""
        words = self._words
        if words is None:
            words = _search_words(self)
            object.__setattr__(self, "_words", words)
        if len(words) == 1 and isinstance(words[0], str):
            return words[0]
        return "".join(word if isinstance(word, str) else word.text_at(now) for word in words)


def _search_words(row: Row) -> tuple[str | AgeCell, ...]:
    """The row's filter text as runs of fixed lower-case text with its ages between them."""
    words: list[str | AgeCell] = []
    run: list[str] = []
    for cell in row.cells:
        if isinstance(cell, AgeCell):
            words.append(" ".join(run).lower() + (" " if run else ""))
            words.append(cell)
            run = [""]  # the space after the age
        else:
            run.append(cell.plain)
    run.append(row.search)
    words.append(" ".join(run).lower())
    return tuple(word for word in words if word != "")
