"""A pane's table: rows kept by key (widgets/table_model.py), drawn a line at a time, only those on screen.

A Line API widget (Textual's ScrollView): `render_line(y)` draws the header or
the row at `y`, each row's line cached by what it looks like (its cells, the
cursor, its highlight, its ages as shown), so 10,000 rows cost what the 40 on
screen cost.  After each scan, sort or cursor move, the lines on screen are
compared with what was last drawn there and only those that differ are
refreshed; a line whose ages alone moved refreshes only its age cells.  So a
scan in a quiet world writes almost nothing to the terminal.

The columns fit the width of the screen (ipctop/render/fit.py): a narrow one
leaves out the columns its pane says matter least and cuts the text columns that
may be cut; a wide one gives the room to the text columns, whose cells then show
more (all attachers, the whole command line).

Keys: up/down (and vim's k/j), page up/down, home/end (first/last row), Enter
posts `RowSelected`.  A click on a row moves the cursor there (a second click
selects it); a click on a header posts `HeaderSelected`.

What htop users expect of a list: a row followed (`follow_key`: the cursor stays on
it across scans, sorts and filters, and the view scrolls to it; moving the cursor
stops it), rows tagged (a `•` in the margin), a search that moves the cursor to the
next row containing a text (`find`), and columns the user chose to hide (`hidden`).
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ipctop.render.fit import ColumnFit, fit_widths
from ipctop.tui.rows import AgeCell, Column, Row
from ipctop.tui.widgets.table_model import WHOLE_ROW, TableModel
from ipctop.tui.widgets.table_paint import PADDING, Palette, cell_segments, join_pieces, paint_header, row_pieces

NEVER_FILLED = 1_000  # the priority of a column no row has yet put anything in: the first to go when room is short

ROLE_CLASSES = ("alert", "warn", "good", "muted", "strong", "demo")
TRANSIENT_CLASSES = ("new", "changed", "gone")
FULL_COLLECTION_EVERY = 300  # syncs between two collections that also walk the frozen objects
STRIP_CACHE = 1000  # rows' lines kept drawn (a screen or two; scrolling far draws again)
_syncs = itertools.count(1)

LineState = tuple[Any, ...]  # (key, row look, under the cursor, fading since, highlighted columns, tagged, ages shown)
TAG_MARK = "•"  # drawn in the left margin of a tagged row


def settle_heap() -> None:
    """Move what is alive now out of the cyclic collector's sight (gc.freeze), after a table is synced.

    A 10,000-row table is some 200,000 objects; each full collection walked them all (0.3-0.5 s
    here, every few scans) to find no garbage: rows and cells form no cycles and are freed by
    reference counting, frozen or not.  What could leak while frozen is cyclic garbage among other
    frozen objects (widgets removed since), so once in a while everything is unfrozen and collected.
    """
    if next(_syncs) % FULL_COLLECTION_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


class ObjectTable(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Detail", show=True),
        Binding("up,k", "cursor_up", "Cursor up", show=False),
        Binding("down,j", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "first_row", "First row", show=False),
        Binding("end,ctrl+end", "last_row", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        f"object-table--{name}" for name in (*ROLE_CLASSES, *TRANSIENT_CLASSES, "header", "cursor", "tagged")
    }
    # The colours DataTable had, so the monitor looks as it did.
    DEFAULT_CSS = """
    ObjectTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .object-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .object-table--header { background-tint: $foreground 5%; }
        }
        & > .object-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .object-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .object-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    ObjectTable > .object-table--alert { color: $text-error; text-style: bold; }
    ObjectTable > .object-table--warn { color: $text-warning; }
    ObjectTable > .object-table--good { color: $text-success; }
    ObjectTable > .object-table--muted { color: $text-muted; }
    ObjectTable > .object-table--strong { text-style: bold; }
    ObjectTable > .object-table--demo { color: $text-accent; }
    ObjectTable > .object-table--new { color: $text-success; text-style: bold; }
    ObjectTable > .object-table--changed { color: $text-warning; text-style: bold; }
    ObjectTable > .object-table--gone { color: $text-disabled; text-style: strike; }
    ObjectTable > .object-table--tagged { color: $text-warning; text-style: bold; }
    """

    class RowHighlighted(Message):
        """The cursor moved to another row (or another row came under it)."""

        def __init__(self, table: ObjectTable, row_index: int, row_key: str | None) -> None:
            super().__init__()
            self.table, self.row_index, self.row_key = table, row_index, row_key

        @property
        def control(self) -> ObjectTable:
            return self.table

    class RowSelected(Message):
        """Enter on a row, or a click on the row under the cursor."""

        def __init__(self, table: ObjectTable, row_index: int, row_key: str) -> None:
            super().__init__()
            self.table, self.row_index, self.row_key = table, row_index, row_key

        @property
        def control(self) -> ObjectTable:
            return self.table

    class HeaderSelected(Message):
        """A click on a column's header."""

        def __init__(self, table: ObjectTable, column_key: str) -> None:
            super().__init__()
            self.table, self.column_key = table, column_key

        @property
        def control(self) -> ObjectTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = TableModel(columns)
        self.spec = self.model.spec
        self.cursor_row = 0
        self._announced: tuple[int, str | None] = (0, None)  # the cursor as last told with RowHighlighted
        self._scroll_pending = False
        self._style_version = 0  # bumped when the theme changes
        self._layout_version = 0  # bumped when a column's width changes
        self._shown: list[tuple[int, int]] = []  # (column index, width) of the columns on screen
        self._shown_for: tuple[Any, ...] | None = None  # the natural widths and room they were fitted to
        self._palette: Palette | None = None
        self._palette_key: Any = None
        # row key -> (drawn from, line, each cell's segments, the line in pieces and where each cell is in
        # them: see table_paint.row_pieces)
        self._strips: dict[str, tuple[Any, Strip, list[list[Segment]], list[list[Segment]], list[int]]] = {}
        self._batch: tuple[list[tuple[int, int]], int, int, int] | None = None  # render_lines: shown, width, scroll
        self._header: tuple[Any, Strip] | None = None
        self._drawn: dict[int, LineState | None] = {}  # screen line -> what render_line drew there
        self.follow_key: str | None = None  # the row the cursor stays on (F); None: the cursor stays put
        self.user_moves = 0  # how often the user moved the cursor (a key, a click): that ends a follow
        self.hidden: frozenset[str] = frozenset()  # columns the user chose not to see (settings)
        self.sideways_taken = False  # ← → go to the screen's keys (folding a tree) instead of scrolling

    def on_mount(self) -> None:
        self._update_virtual_size()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.call_after_refresh(self.restyle_all))

    # --- what panes, screens and tests read ---------------------------------------------

    @property
    def own_keys(self) -> frozenset[str]:
        """The keys the table's own bindings take (Enter, the arrows…)."""
        return frozenset(key.strip() for binding in self.BINDINGS for key in binding.key.split(","))  # type: ignore[union-attr]

    @property
    def sort_column(self) -> str | None:
        return self.model.sort_column

    @property
    def sort_reverse(self) -> bool:
        return self.model.sort_reverse

    @property
    def now(self) -> float:
        return self.model.now

    @property
    def row_count(self) -> int:
        return len(self.model)

    @property
    def ordered_keys(self) -> list[str]:
        """The keys of the rows as shown, top to bottom."""
        return self.model.order

    @property
    def cursor_key(self) -> str | None:
        order = self.model.order
        return order[self.cursor_row] if self.cursor_row < len(order) else None

    @property
    def selected(self) -> Any:
        """The model object of the row under the cursor, or None."""
        key = self.cursor_key
        return self.model.rows[key].obj if key is not None else None

    def row_for(self, key: str) -> Row | None:
        return self.model.rows.get(key)

    def is_fading(self, key: str) -> bool:
        return key in self.model.fading

    def get_row_index(self, key: str) -> int:
        """Where the row with `key` is shown (KeyError if it is not)."""
        return self.model.position(key)

    @property
    def tagged_keys(self) -> list[str]:
        """The keys of the tagged rows, top to bottom."""
        tagged = self.model.tagged
        return [key for key in self.model.order if key in tagged] if tagged else []

    def toggle_tag(self) -> None:
        """Tag the row under the cursor (or untag it), and move down to the next (as htop does)."""
        key = self.cursor_key
        if key is None:
            return
        self.model.tagged.symmetric_difference_update({key})
        self._user_cursor(self.cursor_row + 1)
        self._refresh_changed_lines()

    def clear_tags(self) -> None:
        self.model.tagged.clear()
        self._refresh_changed_lines()

    def find(self, needle: str, step: int, *, here: bool = False) -> int | None:
        """The index of the next row (`step` 1) or the previous (-1) whose text contains `needle`
        (lower case), from the cursor and round the end; `here` counts the cursor's row first."""
        order, rows, now = self.model.order, self.model.rows, self.model.now
        count = len(order)
        start = self.cursor_row if here else self.cursor_row + step
        for offset in range(count):
            index = (start + step * offset) % count
            if needle in rows[order[index]].search_text(now):
                return index
        return None

    def go_to(self, index: int) -> None:
        """Move the cursor to `index` for the user (a search): it ends a follow like a key would."""
        self._user_cursor(index)

    def follow(self, key: str | None) -> None:
        """Keep the cursor on the row `key` from now on (None: stop); put it there now if it is shown."""
        self.follow_key = key
        if key is not None and key in self.model.rows:
            self._set_cursor(self.model.position(key))

    def set_hidden(self, columns: frozenset[str]) -> None:
        """Leave these columns out (the settings); the first column is always shown."""
        columns = frozenset(columns) - {self.spec[0].key}
        if columns != self.hidden:
            self.hidden = columns
            self._shown_for = None
            if self._fit_columns():
                self._update_virtual_size()
            self._header = None
            self.refresh()

    # --- keeping up with the pane ----------------------------------------------------------

    def sync(
        self,
        rows: Sequence[Row],
        *,
        fade: bool,
        highlight: bool,
        now: float | None = None,
        pinned: frozenset[str] | None = None,
    ) -> None:
        """Make the table show `rows`; `fade` keeps vanished rows dimmed one more scan; ages are drawn to
        `now`; `pinned` rows stand first."""
        cursor_key = self.cursor_key
        widths = list(self.model.widths)
        reordered = self.model.sync(rows, fade=fade, highlight=highlight, now=now, pinned=pinned)
        if widths != self.model.widths and self._fit_columns():
            self._update_virtual_size()
            self.refresh()
        if reordered:
            self._update_virtual_size()
            self._restore_cursor(cursor_key)
        elif self.follow_key is not None and self.follow_key in self.model.rows \
                and self.follow_key != self.cursor_key:  # fmt: skip
            self._set_cursor(self.model.position(self.follow_key))  # it came back (a filter, a scan)
        self._refresh_changed_lines()
        self._announce()
        settle_heap()

    def set_sort(self, column_key: str, reverse: bool) -> None:
        cursor_key = self.cursor_key
        self.model.set_sort(column_key, reverse)
        self.refresh()
        self._restore_cursor(cursor_key)

    def apply_sort(self) -> None:
        cursor_key = self.cursor_key
        self.model.sort()
        self.refresh()
        self._restore_cursor(cursor_key)

    def restyle_all(self) -> None:
        """Resolve the roles' styles again (after a theme change) and draw everything again."""
        self._style_version += 1
        self.refresh()

    # --- the cursor ---------------------------------------------------------------------------

    def move_cursor(self, *, row: int | None = None, animate: bool = False, scroll: bool = True) -> None:
        if row is not None:
            self._set_cursor(row, scroll=scroll, animate=animate)

    def _set_cursor(self, index: int, *, scroll: bool = True, animate: bool = False) -> None:
        count = len(self.model)
        self.cursor_row = max(0, min(index, count - 1))
        if scroll:
            self._scroll_to_cursor(animate)
        self._refresh_changed_lines()
        self._announce()

    def _restore_cursor(self, key: str | None) -> None:
        """Put the cursor back on `key` (or on the row followed) after the order changed; if that row is
        gone, on the same line."""
        if self.follow_key is not None and self.follow_key in self.model.rows:
            key = self.follow_key
        if key is not None and key in self.model.rows:
            self._set_cursor(self.model.position(key))
        else:
            self._set_cursor(self.cursor_row)

    def _announce(self) -> None:
        now = (self.cursor_row, self.cursor_key)
        if now != self._announced:
            self._announced = now
            self.post_message(self.RowHighlighted(self, *now))

    def _scroll_to_cursor(self, animate: bool = False) -> None:
        visible = self._visible_rows()
        if visible <= 0:
            self._scroll_pending = True  # not laid out yet (or hidden): when it is
            return
        self._scroll_pending = False
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=animate, force=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=animate, force=True)

    def on_resize(self, _event: events.Resize) -> None:
        if self._fit_columns():
            self._update_virtual_size()
            self.refresh()
        if self._scroll_pending:
            self.call_after_refresh(self._scroll_to_cursor)

    def _visible_rows(self) -> int:
        return self.scrollable_content_region.height - 1  # under the header

    # --- keys and mouse -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Taken sideways keys go on to the screen's bindings (folding a tree).
        return not (self.sideways_taken and action in ("scroll_left", "scroll_right"))

    def _user_cursor(self, index: int) -> None:
        """The user moves the cursor: a row followed is no longer."""
        self.user_moves += 1
        self.follow_key = None
        self._set_cursor(index)

    def action_cursor_up(self) -> None:
        self._user_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._user_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        page = max(1, self._visible_rows())
        self.scroll_to(y=self.scroll_y - page, animate=False, force=True)
        self._user_cursor(self.cursor_row - page)

    def action_page_down(self) -> None:
        page = max(1, self._visible_rows())
        self.scroll_to(y=self.scroll_y + page, animate=False, force=True)
        self._user_cursor(self.cursor_row + page)

    def action_first_row(self) -> None:
        self._user_cursor(0)

    def action_last_row(self) -> None:
        self._user_cursor(len(self.model) - 1)

    def action_select_cursor(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.RowSelected(self, self.cursor_row, key))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x + round(self.scroll_x))
            if column is not None:
                self.post_message(self.HeaderSelected(self, column.key))
            return
        index = round(self.scroll_y) + offset.y - 1
        if index >= len(self.model):
            return
        event.stop()
        if index == self.cursor_row:
            self.action_select_cursor()
        else:
            self._user_cursor(index)

    def _column_at(self, x: int) -> Column | None:
        right = 0
        for index, width in self.shown_columns:
            right += width + 2 * PADDING
            if x < right:
                return self.spec[index]
        return None

    # --- drawing -----------------------------------------------------------------------------

    # --- which columns, how wide -----------------------------------------------------------------

    @property
    def shown_columns(self) -> list[tuple[int, int]]:
        """(column index, width) of each column on screen, left to right."""
        self._fit_columns()
        return self._shown

    @property
    def shown_keys(self) -> list[str]:
        return [self.spec[index].key for index, _ in self.shown_columns]

    def _room(self) -> int:
        """The cells a line has (0 before the table is laid out: then every column is shown)."""
        return self.scrollable_content_region.width if self.is_mounted else 0

    def _fit_columns(self) -> bool:
        """Fit the columns to the room there is; True if what is shown changed."""
        room = self._room()
        key = (tuple(self.model.widths), tuple(self.model.filled), room)
        if key == self._shown_for:
            return False
        self._shown_for = key
        visible = [(i, c, natural) for i, (c, natural) in enumerate(zip(self.spec, self.model.widths, strict=True))
                   if c.key not in self.hidden]  # fmt: skip
        filled = self.model.filled
        if room <= 0:
            shown = [(i, natural) for i, _c, natural in visible]
        else:
            fits = [
                ColumnFit(c.priority if c.priority == 0 or filled[i] else NEVER_FILLED, natural,
                          natural if c.width or c.shrink_to is None else min(natural, c.shrink_to))
                for i, c, natural in visible
            ]
            widths = fit_widths(fits, room, gap=2 * PADDING)
            shown = [(i, width) for (i, _c, _n), width in zip(visible, widths, strict=True) if width is not None]
        if shown == self._shown:
            return False
        self._shown = shown
        self._layout_version += 1
        return True

    def _update_virtual_size(self) -> None:
        width = sum(width for _, width in self.shown_columns) + 2 * PADDING * len(self._shown)
        size = Size(width, len(self.model) + 1)
        before = self.virtual_size
        if size == before:
            return
        if not (self.is_mounted and self.size and size.width == before.width and self._height_is_fixed()):
            self.virtual_size = size  # a reactive: a layout, and the whole table painted again
            return
        # Only the number of rows changed, and the table's size does not depend on it: its scrollbar
        # follows, and the lines on screen that now differ are refreshed one by one
        # (_refresh_changed_lines), instead of the whole table at every scan that adds or loses a row.
        scrollbar = self.show_vertical_scrollbar
        self.set_reactive(ObjectTable.virtual_size, size)
        self._scroll_update(size)
        if self.show_vertical_scrollbar != scrollbar or self.scroll_y > self.max_scroll_y:
            self.refresh(layout=True)  # the room for the lines changed, or the view must scroll back

    def _height_is_fixed(self) -> bool:
        """The table's height is set by its container (app.tcss: 1fr), not by how many rows it has."""
        height = self.styles.height
        return height is not None and not height.is_auto

    def _line_state(self, index: int) -> LineState | None:
        """What decides how the row at `index` is drawn (None: no row there)."""
        model = self.model
        order = model.order
        if not 0 <= index < len(order):
            return None
        key = order[index]
        row = model.rows[key]
        seen = model.fading.get(key)
        at = model.now if seen is None else seen  # a vanished row keeps its ages as last seen
        ages = tuple((i, cell.text_at(at)) for i, cell in enumerate(row.cells) if isinstance(cell, AgeCell))
        lit = model.lit.get(key)
        tagged = key in model.tagged
        return (key, row.look, index == self.cursor_row, seen, frozenset(lit) if lit else None, tagged, ages)

    def _refresh_changed_lines(self) -> None:
        """Refresh the lines on screen that would be drawn differently from how they were; where
        only ages differ, only the age cells."""
        if not self.is_mounted or not self.size:
            return
        top = round(self.scroll_y)
        width = max(self.virtual_size.width, self.size.width)
        drawn = self._drawn
        regions = []
        age_spans: list[tuple[int, int]] | None = None
        for y in range(1, self._visible_rows() + 1):
            state = self._line_state(top + y - 1)
            before = drawn.get(y)
            if state == before:
                continue
            if state is not None and before is not None and state[:-1] == before[:-1]:
                if age_spans is None:
                    age_spans = self._age_spans()
                regions += [Region(x - round(self.scroll_x), y, w, 1) for x, w in age_spans]
            else:
                regions.append(Region(0, y, width, 1))
        if regions:
            self.refresh(*regions)

    def _age_spans(self) -> list[tuple[int, int]]:
        """Where the columns of ages are on the unscrolled line: (x, width) each."""
        spans, x = [], 0
        for index, width in self.shown_columns:
            if self.spec[index].volatile:
                spans.append((x, width + 2 * PADDING))
            x += width + 2 * PADDING
        return spans

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._fit_columns():  # the room changed without a resize (a scrollbar came or went)
            self.call_after_refresh(self._update_virtual_size)
        key = (self.get_pseudo_class_state(), self._style_version, self.app.theme)
        if key != self._palette_key:
            self._palette, self._palette_key = self._make_palette(), key
        # What every line of this render shares, worked out once rather than for each line.
        scroll_x, scroll_y = self.scroll_offset
        self._batch = (self._shown, self.size.width, scroll_x, scroll_y)
        try:
            return super().render_lines(crop)
        finally:
            self._batch = None

    def _make_palette(self) -> Palette:
        base = self.rich_style
        roles = {
            name: self.get_component_rich_style(f"object-table--{name}", partial=True)
            for name in (*ROLE_CLASSES, *TRANSIENT_CLASSES, "tagged")
        }
        cursor = base + self.get_component_rich_style("object-table--cursor")
        return Palette(base, cursor, self.get_component_rich_style("object-table--header"), roles)

    def render_line(self, y: int) -> Strip:
        palette = self._palette
        if palette is None:
            palette = self._palette = self._make_palette()
        batch = self._batch
        if batch is None:
            shown, width, (scroll_x, scroll_y) = self.shown_columns, self.size.width, self.scroll_offset
        else:
            shown, width, scroll_x, scroll_y = batch
        if y == 0:
            return self._header_strip(palette).crop_extend(scroll_x, scroll_x + width, palette.header)
        state = self._line_state(scroll_y + y - 1)
        self._drawn[y] = state
        if state is None:
            return Strip.blank(width, palette.base)
        fill = palette.cursor if state[2] else palette.base
        return self._row_strip(state, palette, shown).crop_extend(scroll_x, scroll_x + width, fill)

    def _header_strip(self, palette: Palette) -> Strip:
        model = self.model
        stamp = (self._palette_key, self._layout_version, model.sort_column, model.sort_reverse)
        if self._header is not None and self._header[0] == stamp:
            return self._header[1]
        mark = "▼" if model.sort_reverse else "▲"
        shown = self.shown_columns
        labels = [f"{self.spec[i].label}{mark if self.spec[i].key == model.sort_column else ' '}" for i, _ in shown]
        strip = paint_header(labels, [width for _, width in shown], palette.header)
        self._header = (stamp, strip)
        return strip

    def _row_strip(self, state: LineState, palette: Palette, shown: list[tuple[int, int]]) -> Strip:
        key, _look, under_cursor, seen, lit, tagged, ages = state
        stamp = (state, self._palette_key, self._layout_version)
        cached = self._strips.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        row = self.model.rows[key]
        ages_of = dict(ages)
        widths = [width for _, width in shown]
        if cached is not None and cached[0][1:] == stamp[1:] and cached[0][0][:-1] == state[:-1]:
            # Only ages moved on (every scan, in a quiet world): the other cells' segments are reused,
            # and so is the line around the ages (its runs of other cells are not simplified again).
            before = dict(cached[0][0][-1])
            parts, pieces, where = list(cached[2]), list(cached[3]), cached[4]
            moved = [place for place, (index, _) in enumerate(shown)
                     if index in ages_of and ages_of[index] != before.get(index)]
            for place in moved:
                index, width = shown[place]
                parts[place] = self._cell_segments(row, index, ages_of[index], width, state, palette)
            if all(where[place] >= 0 for place in moved):
                for place in moved:
                    pieces[where[place]] = list(Segment.simplify(parts[place]))
            else:  # an age in a run of cells (the first cell): the pieces are made again
                pieces, where = row_pieces(parts, [index in ages_of for index, _ in shown],
                                           self._margin(under_cursor, tagged, palette))
        else:
            parts = [self._cell_segments(row, index, ages_of.get(index), width, state, palette)
                     for index, width in shown]
            pieces, where = row_pieces(parts, [index in ages_of for index, _ in shown],
                                       self._margin(under_cursor, tagged, palette))
        strip = join_pieces(pieces, widths)
        if len(self._strips) >= STRIP_CACHE:
            self._strips.clear()
        self._strips[key] = (stamp, strip, parts, pieces, where)
        return strip

    @staticmethod
    def _margin(under_cursor: bool, tagged: bool, palette: Palette) -> tuple[str, Any] | None:
        """What a tagged row draws over its first space (None: not tagged)."""
        if not tagged:
            return None
        return TAG_MARK, (palette.cursor if under_cursor else palette.base) + palette.roles["tagged"]

    def _cell_segments(self, row: Row, index: int, age: str | None, width: int, state: LineState,
                       palette: Palette) -> list[Segment]:  # fmt: skip
        """One cell of a row's line (table_paint.cell_segments), styled as the row's state says."""
        _key, _look, under_cursor, seen, lit, tagged, _ages = state
        column, cell = self.spec[index], row.cells[index]
        whole = "gone" if seen is not None else "new" if lit and WHOLE_ROW in lit else None
        roles = palette.roles
        role = "tagged" if tagged else cell.role or row.role
        transient = whole or ("changed" if lit and column.key in lit else None)
        line = palette.cursor if under_cursor else palette.base
        return cell_segments(cell, age if age is not None else cell.fitted(width), width, line,
                             roles[role] if role else None, roles[transient] if transient else None,
                             self.app.console)  # fmt: skip
