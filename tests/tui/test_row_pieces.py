"""A row's line put together from pieces simplified apart (table_paint.row_pieces, join_pieces) is segment
for segment the line join_row simplifies whole: the table splices new ages into the pieces at each scan
instead of simplifying the whole line again, and must draw exactly what a fresh paint draws."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style

from ipctop.tui.widgets.table_paint import join_pieces, join_row, row_pieces

STYLES = [Style(color="red"), Style(color="red"), Style(bold=True), Style(color="blue", bgcolor="white")]
# text in a style, as cell_segments makes them (no control codes: a cell's text is escaped)
segments = st.builds(lambda text, style: Segment(text, style), st.text(alphabet=" ab…", max_size=4),
                     st.sampled_from(STYLES))
cells = st.lists(segments, min_size=1, max_size=3)


@given(st.lists(st.tuples(cells, st.booleans()), min_size=1, max_size=8), st.booleans())
def test_pieces_join_into_the_line_join_row_makes(row, tagged):
    parts = [part for part, _ in row]
    alone = [single for _, single in row]
    widths = [sum(len(segment.text) for segment in part) for part in parts]
    margin = ("•", Style(color="yellow")) if tagged else None
    pieces, where = row_pieces(parts, alone, margin)
    assert list(join_pieces(pieces, widths)) == list(join_row(parts, widths, margin))
    assert where[0] == -1  # the first cell is never alone: the margin is drawn over it
    for place, piece in enumerate(where):
        if piece >= 0:  # a cell alone: its piece is its own segments, simplified
            assert pieces[piece] == list(Segment.simplify(parts[place]))
