"""Fitting a table into a width: which columns stay, how wide each is, and cells cut to fit.

Shared by the monitor's tables and `ipctop list`.  Every column says how much it
matters (`priority`: 0 is always shown, higher numbers are left out first) and
how narrow it may be cut (`minimum`; a column that must not be cut has its
natural width there).  On a narrow screen the least important columns go first,
and only as many as needed; the room left goes to the cut columns, the most
important first, up to their natural width.  Pure: no textual, no rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class ColumnFit:
    priority: int  # 0: always shown; a narrow screen leaves out the highest numbers first
    natural: int  # the width of its widest cell (or its label)
    minimum: int  # the narrowest it may be cut to; == natural for a column that is never cut


YIELDS = 7  # a column this unimportant is left out rather than have a column of priority 0 cut short


def fit_widths(columns: Sequence[ColumnFit], available: int, gap: int = 2) -> list[int | None]:
    """The width of each column within `available` cells, `gap` cells between or around each;
    None for a column left out.  If even the columns of priority 0 do not fit, they keep their
    minimum widths (the line is then cut at the edge).  A column of priority YIELDS or more is left
    out, too, where keeping it would cut a column of priority 0 below a comfortable width."""
    widths = _fit(columns, available, gap, range(len(columns)))
    while True:
        cut = any(w is not None and columns[i].priority == 0 and w < min(columns[i].natural, COMFORTABLE)
                  for i, w in enumerate(widths))
        yielding = [i for i, w in enumerate(widths) if w is not None and columns[i].priority >= YIELDS]
        if not cut or not yielding:
            return widths
        # The least important first; of equals, the rightmost.
        yielding.remove(max(yielding, key=lambda i: (columns[i].priority, i)))
        kept = [i for i, w in enumerate(widths) if w is not None and (columns[i].priority < YIELDS or i in yielding)]
        widths = _fit(columns, available, gap, kept)


def _fit(columns: Sequence[ColumnFit], available: int, gap: int, candidates: Sequence[int]) -> list[int | None]:
    shown = list(candidates)

    def needed() -> int:
        return sum(columns[i].minimum + gap for i in shown)

    while needed() > available:
        droppable = [i for i in shown if columns[i].priority > 0]
        if not droppable:
            break
        # The least important first; of equals, the rightmost.
        shown.remove(max(droppable, key=lambda i: (columns[i].priority, i)))
    widths: list[int | None] = [None] * len(columns)
    for i in shown:
        widths[i] = columns[i].minimum
    room = available - needed()
    # First each cut column up to a comfortable width, the most important first; then what is left
    # to all of them evenly (a long list of attachers must not starve a command line).
    priorities = sorted({columns[i].priority for i in shown})
    for cap in (COMFORTABLE, None):
        for group in ([[i for i in shown if columns[i].priority == p] for p in priorities] if cap else [shown]):
            room = _share(columns, widths, group, room, cap)
    return widths


COMFORTABLE = 36  # cells a text column gets before the room left is shared by all


def _share(columns: Sequence[ColumnFit], widths: list[int | None], group: list[int], room: int, cap: int | None) -> int:
    """Widen the columns of `group` evenly toward their natural width (and `cap`); the room left."""
    while room > 0:
        limits = {i: columns[i].natural if cap is None else min(columns[i].natural, max(cap, columns[i].minimum))
                  for i in group}  # fmt: skip
        short = [i for i in group if widths[i] < limits[i]]  # type: ignore[operator]
        if not short:
            break
        share = max(1, room // len(short))
        for i in short:
            more = min(share, limits[i] - widths[i], room)  # type: ignore[operator]
            widths[i] += more  # type: ignore[operator]
            room -= more
            if room <= 0:
                break
    return room


def ellipsize(text: str, width: int) -> str:
    """`text` cut to `width` characters, its last one `…` when cut."""
    if len(text) <= width:
        return text
    if width <= 0:
        return ""
    return text[: width - 1] + ELLIPSIS


def ellipsize_label(text: str, width: int) -> str:
    """A process label `name[pid]…` cut in its name, keeping its pid: `postg…[3001]`; other text as
    `ellipsize` cuts it."""
    if len(text) <= width:
        return text
    bracket = text.rfind("[")
    tail = text[bracket:] if bracket > 0 else ""
    if tail and width - len(tail) >= 2:
        return ellipsize(text[:bracket], width - len(tail)) + tail
    return ellipsize(text, width)


def fit_list(items: Sequence[str], width: int, separator: str = ", ", short: Sequence[str] | None = None) -> str:
    """As many items as fit in `width`, then `+N` for the rest: `a[1], b[2] +3`.

    `short` are the same items named more briefly (`postgres[7026]` for `postgres:
    checkpointer[7026]`): used where not even the first item could be read whole otherwise.  The first item is cut
    with `…` if even it does not fit beside the count."""
    text, whole = _fit_items(items, width, separator)
    if short is not None and whole == 0:
        brief, brief_whole = _fit_items(short, width, separator)
        if brief_whole > 0:
            return brief
    return text


def _fit_items(items: Sequence[str], width: int, separator: str) -> tuple[str, int]:
    """The items that fit (then `+N`), and how many of them are shown whole."""
    if not items:
        return "", 0
    whole = separator.join(items)
    if len(whole) <= width:
        return whole, len(items)
    shown: list[str] = []
    for i, item in enumerate(items):
        rest = len(items) - i - 1
        candidate = separator.join([*shown, item]) + (f" +{rest}" if rest else "")
        if len(candidate) > width:
            break
        shown.append(item)
    if not shown:
        more = f" +{len(items) - 1}" if len(items) > 1 else ""
        if width > len(more):
            return ellipsize_label(items[0], width - len(more)) + more, 0
        return ellipsize(whole, width), 0
    return separator.join(shown) + f" +{len(items) - len(shown)}", len(shown)
