"""The monitor's own actions: panes, filter, sort, pause, interval, detail, help, quit.

None of them changes the system; they act on the main screen and the app.
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


def _show_pane(pane_id: str):  # type: ignore[no-untyped-def]
    def show(ctx: ActionContext) -> None:
        _main(ctx).show_pane(pane_id)

    return show


ACTIONS = (
    ActionSpec("view.quit", "q", "Quit", quit_app, show=True, help="Quit ipctop"),
    ActionSpec("view.help", "question_mark,f1", "Help", show_help, show=True, key_display="?",
               help="Show this list of keys"),
    ActionSpec("view.detail", "enter", "Detail", open_detail, needs_selection=True,
               help="Open the detail of the selected row: fields, processes, lifetime"),
    # A priority key, so that what is typed right after it goes to the filter even when typed fast.
    ActionSpec("view.filter", "slash", "Filter", open_filter, show=True, key_display="/", priority=True,
               help="Filter the pane: rows containing the text in any column"),
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
