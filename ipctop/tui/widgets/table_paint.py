"""Drawing one table line (a row or the header) as a Strip: each cell padded, aligned and styled.

What DataTable did per cell through rich (Padding, Styled, render_lines), done
here for the whole line at once: a cell is almost always one plain string in one
style, so it is one Segment, with the padding spaces in the line's style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from ipctop.tui.rows import Cell, cut

PADDING = 1  # spaces on each side of a cell


@dataclass(frozen=True)
class Palette:
    """The styles a table draws with, resolved from the theme and the table's focus."""

    base: Style  # the table's own colours
    cursor: Style  # base and the cursor's colours
    header: Style
    roles: Mapping[str, Style]  # partial styles: "alert", "muted", …, "new", "changed", "gone"


def fit(text: str, width: int, justify: str) -> tuple[str, str, str]:
    """`text` cut to `width` cells (with `…`), and the spaces before and after it."""
    length = cell_len(text)
    if length > width:
        return cut(text, width), "", ""
    room = width - length
    if justify == "right":
        return text, " " * room, ""
    if justify == "center":
        return text, " " * (room // 2), " " * (room - room // 2)
    return text, "", " " * room


def cell_segments(
    cell: Cell, text: str | Text, width: int, line: Style, under: Style | None, over: Style | None, console: Console
) -> list[Segment]:
    """A cell in `width` columns plus padding: `text` (what it shows now, Cell.fitted) in the line's
    style, with the role's style `under` the text's own rich spans, if any, and a highlight `over` them."""
    pad = " " * PADDING
    if isinstance(text, str):
        shown, before, after = fit(text, width, cell.justify)
        style = line + under if under else line
        shown_style = style + over if over else style
        return [Segment(pad + before, line), Segment(shown, shown_style), Segment(after + pad, line)]
    rich_text = text
    if rich_text.cell_len > width:
        rich_text = rich_text.copy()
        rich_text.truncate(width, overflow="ellipsis")
    _, before, after = fit(" " * rich_text.cell_len, width, cell.justify)
    parts = [Segment(pad + before, line)]
    style = line + under if under else line
    for piece in rich_text.render(console, end=""):
        piece_style = style + piece.style if piece.style else style
        parts.append(Segment(piece.text, piece_style + over if over else piece_style))
    parts.append(Segment(after + pad, line))
    return parts


def paint_row(
    cells: Sequence[Cell],
    texts: Sequence[str | Text],
    roles: Sequence[tuple[Style | None, Style | None]],
    widths: Sequence[int],
    line: Style,
    console: Console,
    margin: tuple[str, Style] | None = None,
) -> Strip:
    """A row's line, unscrolled: `texts` are what each cell shows, `roles` the styles under and over
    each cell's own, on top of the `line`'s; `margin` (a character and its style) replaces the
    line's first space (a tagged row's mark)."""
    parts = [cell_segments(cell, text, width, line, under, over, console)
             for cell, text, (under, over), width in zip(cells, texts, roles, widths, strict=True)]  # fmt: skip
    return join_row(parts, widths, margin)


def join_row(parts: Sequence[list[Segment]], widths: Sequence[int], margin: tuple[str, Style] | None = None) -> Strip:
    """The line of a row from each cell's segments (cell_segments), as paint_row draws it."""
    segments = [segment for part in parts for segment in part]
    if margin is not None and segments and segments[0].text.startswith(" "):
        first = segments[0]
        segments[0:1] = [Segment(margin[0], margin[1]), Segment(first.text[1:], first.style)]
    return Strip(segments, sum(widths) + 2 * PADDING * len(widths)).simplify()


def row_pieces(parts: Sequence[list[Segment]], alone: Sequence[bool],
               margin: tuple[str, Style] | None = None) -> tuple[list[list[Segment]], list[int]]:
    """The segments of a row's line as join_row makes them, in pieces each simplified on its own: a run
    of cells, or a cell `alone` (an age, which the next scan replaces while the runs stay); and for
    each cell, the piece it is alone in (-1: in a run).  The first cell is never alone (the margin is
    drawn over it).  join_pieces puts the pieces together into what join_row gives."""
    pieces: list[list[Segment]] = []
    where: list[int] = []
    run: list[Segment] = []
    for place, (part, single) in enumerate(zip(parts, alone, strict=True)):
        if single and place > 0:
            if run:
                pieces.append(run)
                run = []
            where.append(len(pieces))
            pieces.append(list(part))
        else:
            where.append(-1)
            run += part
    if run:
        pieces.append(run)
    if margin is not None and pieces and pieces[0] and pieces[0][0].text.startswith(" "):
        first = pieces[0][0]
        pieces[0][0:1] = [Segment(margin[0], margin[1]), Segment(first.text[1:], first.style)]
    return [list(Segment.simplify(piece)) for piece in pieces], where


def join_pieces(pieces: Sequence[list[Segment]], widths: Sequence[int]) -> Strip:
    """A line from simplified pieces (row_pieces): as Segment.simplify would join them, merging only where
    two pieces meet, so the line is segment for segment what join_row gives."""
    segments: list[Segment] = []
    for piece in pieces:
        if segments and piece and segments[-1].style == piece[0].style and not piece[0].control:
            last = segments[-1]
            segments[-1] = Segment(last.text + piece[0].text, last.style)
            segments += piece[1:]
        else:
            segments += piece
    return Strip(segments, sum(widths) + 2 * PADDING * len(widths))


def paint_header(labels: Sequence[str], widths: Sequence[int], style: Style) -> Strip:
    """The header line, unscrolled: the labels in bold."""
    bold = style + Style(bold=True)
    pad = " " * PADDING
    segments: list[Segment] = []
    for text, width in zip(labels, widths, strict=True):
        shown, before, after = fit(text, width, "left")
        segments += [Segment(pad + before, style), Segment(shown, bold), Segment(after + pad, style)]
    return Strip(segments, sum(widths) + 2 * PADDING * len(widths)).simplify()
