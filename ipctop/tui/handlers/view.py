"""The monitor's own actions: panes, filter, search, follow, tags, sort, pause, interval, detail, help,
quit.

None of them changes the system; they act on the main screen and the app.  Where htop
has a key for the same thing, ipctop answers to it too (F1 help, F3 search, F4
filter, F6 sort, F10 quit, Space tag, U untag, F follow; F5 tree and F9 kill or
remove are in their panes' handlers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ipctop.tui.context import ActionContext
from ipctop.tui.panes import PANES
from ipctop.tui.registry import ActionSpec

if TYPE_CHECKING:
    from ipctop.tui.screens.main import MainScreen


def _main(ctx: ActionContext) -> MainScreen:
    return ctx.app.main_screen


def quit_app(ctx: ActionContext) -> None:
    ctx.app.exit(0)


def show_help(ctx: ActionContext) -> None:
    from ipctop.tui.screens.help import HelpScreen

    ctx.app.push_screen(HelpScreen(ctx.readonly))


def open_filter(ctx: ActionContext) -> None:
    _main(ctx).open_filter()


def clear_filter(ctx: ActionContext) -> None:
    _main(ctx).clear_filter()


def sort_previous(ctx: ActionContext) -> None:
    _main(ctx).current_pane.cycle_sort(-1)


def sort_next(ctx: ActionContext) -> None:
    _main(ctx).current_pane.cycle_sort(+1)


def choose_sort(ctx: ActionContext) -> None:
    from ipctop.tui.screens.sort import SortScreen

    pane = _main(ctx).current_pane

    def chosen(column_key: str | None) -> None:
        if column_key:
            pane.sort_by(column_key, reverse=pane.table.sort_reverse)

    ctx.push_screen(SortScreen(pane.shown_columns, pane.table.sort_column), chosen)


def invert_sort(ctx: ActionContext) -> None:
    _main(ctx).current_pane.invert_sort()


def toggle_pause(ctx: ActionContext) -> None:
    ctx.app.set_paused(not ctx.app.paused)


def slower(ctx: ActionContext) -> None:
    ctx.app.step_interval(+1)


def faster(ctx: ActionContext) -> None:
    ctx.app.step_interval(-1)


def refresh_now(ctx: ActionContext) -> None:
    ctx.refresh_now()


def open_detail(ctx: ActionContext) -> None:
    _main(ctx).open_detail()


def open_search(ctx: ActionContext) -> None:
    _main(ctx).open_search()


def search_next(ctx: ActionContext) -> None:
    _main(ctx).search_next(1)


def search_previous(ctx: ActionContext) -> None:
    _main(ctx).search_next(-1)


def follow(ctx: ActionContext) -> None:
    _main(ctx).follow()


def tag(ctx: ActionContext) -> None:
    _main(ctx).toggle_tag()


def untag_all(ctx: ActionContext) -> None:
    _main(ctx).clear_tags()


def open_settings(ctx: ActionContext) -> None:
    from ipctop.settings import INTERVALS, Settings
    from ipctop.tui.screens.settings import PaneChoices, SettingsScreen

    app = ctx.app
    panes = [
        PaneChoices(p.pane_id, p.title, tuple((c.key, c.label) for c in p.columns), p.default_sort, p.default_reverse)
        for p in PANES
    ]
    screen = SettingsScreen(app.current_settings(), panes, sorted(app.available_themes), INTERVALS,
                            app.settings_path, ctx.pane_id)  # fmt: skip

    def done(result: tuple[Settings, bool] | None) -> None:
        if result is not None:
            settings, write = result
            app.apply_settings(settings, write=write)

    ctx.push_screen(screen, done)


def export_rows(ctx: ActionContext) -> None:
    """E: the current pane's rows as shown, to a new file, as text or JSON."""
    from ipctop.tui.export import ExportChoice, ExportError, as_json, as_text, write_new
    from ipctop.tui.forms.export_form import ExportForm

    pane = _main(ctx).current_pane
    table = pane.table
    rows = [row for key in table.ordered_keys if not table.is_fading(key) and (row := table.row_for(key)) is not None]
    now, hidden = table.now, table.hidden

    def chosen(choice: ExportChoice | None) -> None:
        if choice is None:
            return
        if choice.as_json:
            text = as_json(pane.pane_id, pane.title, pane.columns, rows, now, pane.filter_text, table.sort_column,
                           table.sort_reverse, hidden)  # fmt: skip
        else:
            text = as_text(pane.columns, rows, now, hidden)
        try:
            path = write_new(choice.path, text)
        except ExportError as error:
            ctx.fail(str(error))
            return
        ctx.notify(f"Wrote {len(rows)} row{'s' if len(rows) != 1 else ''} of {pane.title} to {path}.")

    ctx.push_screen(ExportForm(pane.pane_id, pane.title, len(rows), now or None), chosen)


def _show_pane(pane_id: str):  # type: ignore[no-untyped-def]
    def show(ctx: ActionContext) -> None:
        _main(ctx).show_pane(pane_id)

    return show


ACTIONS = (
    ActionSpec("view.quit", "q,f10", "Quit", quit_app, show=True, help="Quit ipctop"),
    ActionSpec("view.help", "question_mark,f1", "Help", show_help, show=True, key_display="?",
               help="Show this list of keys"),
    ActionSpec("view.detail", "enter", "Detail", open_detail, needs_selection=True,
               help="Open the detail of the selected row: fields, processes, lifetime"),
    # A priority key, so that what is typed right after it goes to the filter even when typed fast.
    ActionSpec("view.filter", "slash,f4", "Filter", open_filter, show=True, key_display="/", priority=True,
               help="Filter the pane: rows containing the text in any column"),
    ActionSpec("view.search", "f3", "Search", open_search, key_display="F3",
               help="Search: the cursor goes to the next row containing the text as it is typed (F3 again: "
                    "the next one); Enter, then n / N for the next / previous"),
    ActionSpec("view.search_next", "n", "Next match", search_next, help="The next row containing the search text"),
    ActionSpec("view.search_previous", "N", "Previous match", search_previous,
               help="The previous row containing the search text"),
    ActionSpec("view.follow", "F", "Follow", follow, needs_selection=True,
               help="Follow the selected object or process: the cursor stays on it across scans, sorts and "
                    "filters (F again, or a move of the cursor, stops)"),
    ActionSpec("view.tag", "space", "Tag", tag, needs_selection=True,
               help="Tag the selected row (or untag it) and go down; x / F9 then remove, or signal, every "
                    "tagged row after one confirmation"),
    ActionSpec("view.untag", "U", "Untag all", untag_all, help="Untag every row of the pane"),
    ActionSpec("view.settings", "f2,S", "Settings", open_settings, key_display="F2",
               help="Settings: refresh interval, theme, each pane's sort and columns; saved for the next start"),
    ActionSpec("view.export", "E", "Export", export_rows,
               help="Export the pane's rows as shown (filter, sort) to a new file, as text or JSON"),
    ActionSpec("view.clear_filter", "escape", "Clear filter", clear_filter, help="Clear the pane's filter"),
    ActionSpec("view.sort", "f6", "Sort", choose_sort, show=True, key_display="F6",
               help="Choose the column to sort by"),
    ActionSpec("view.sort_previous", "less_than_sign", "Sort ←", sort_previous, key_display="<",
               help="Sort by the column to the left"),
    ActionSpec("view.sort_next", "greater_than_sign", "Sort →", sort_next, key_display=">",
               help="Sort by the column to the right"),
    ActionSpec("view.invert", "I", "Invert", invert_sort, help="Invert the sort order"),
    ActionSpec("view.pause", "p", "Pause", toggle_pause, show=True, help="Pause or resume refreshing"),
    ActionSpec("view.slower", "plus", "Slower", slower, key_display="+", help="Refresh less often (longer interval)"),
    ActionSpec("view.faster", "minus", "Faster", faster, key_display="-", help="Refresh more often (shorter interval)"),
    ActionSpec("view.refresh", "ctrl+r", "Refresh", refresh_now, help="Scan now, also while paused"),
    *(
        ActionSpec(f"view.pane.{pane.pane_id}", str(number), pane.title, _show_pane(pane.pane_id),
                   help=f"Show pane {number}: {pane.title}")
        for number, pane in enumerate(PANES, 1)
    ),
)  # fmt: skip
