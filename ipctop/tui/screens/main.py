"""The main screen: summary line, the panes in tabs, a demo's narration, the filter and search lines
and the keys.

Its bindings come from the action registry; `check_action` decides per pane,
selection and --readonly which of them are shown and usable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static, TabbedContent, TabPane

from ipctop.settings import Settings
from ipctop.tui import registry
from ipctop.tui.context import ActionContext
from ipctop.tui.details import namespace_of
from ipctop.tui.help_text import why_not
from ipctop.tui.panes import PANES
from ipctop.tui.panes.base import Pane, follow_label
from ipctop.tui.screens.detail import DetailScreen
from ipctop.tui.state import Update
from ipctop.tui.widgets.filter_bar import FilterBar, SearchBar
from ipctop.tui.widgets.key_bar import KeyBar
from ipctop.tui.widgets.narration import NarrationPanel
from ipctop.tui.widgets.object_table import ObjectTable
from ipctop.tui.widgets.pane_tabs import PaneTabs
from ipctop.tui.widgets.summary import (
    SummaryBar,
    namespaces_line,
    summary_inputs,
    summary_markup,
    uninspectable_notice,
)

if TYPE_CHECKING:
    from ipctop.tui.interfaces import Monitor

TAB_LABELS = tuple(f"{number} {pane.title}" for number, pane in enumerate(PANES, 1))
SHORT_TAB_LABELS = tuple(f"{number} {pane.short_title or pane.title}" for number, pane in enumerate(PANES, 1))
# the columns the tab bar needs: Textual pads each tab by 1 on each side, app.tcss by 1 on the left only
TABS_PADDED = sum(len(label) + 2 for label in TAB_LABELS)
TABS_LEFT_PADDED = sum(len(label) + 1 for label in TAB_LABELS)

class MainScreen(Screen[None]):
    BINDINGS = registry.bindings()
    # app.tcss: on a -narrow screen each tab keeps only its left padding; below TABS_LEFT_PADDED
    # columns the panes that have one go by their short title (show_tab_labels)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (TABS_PADDED, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]  # app.tcss: a projector's 30 rows keep 12 for the table
    _usable: tuple[bool | None, ...] | None = None  # check_action of every registered action, as the keys show
    _shown_summary: object = None
    _summary_one_line = False  # the summary shown fits its line (False: not shown yet)
    _summary_inputs: object = None  # what the summary shown was made from
    _shown_notice: str | None = None
    _shown_namespaces: str | None = None
    _arrived_at: str = PANES[0].pane_id  # the pane whose filter and focus are set up
    _panes: tuple[Pane, ...] = ()  # every pane, found once (a query walks the whole screen: at every scan)

    @property
    def ipctop(self) -> Monitor:
        return self.app  # type: ignore[return-value]  # the app implements Monitor

    def compose(self) -> ComposeResult:
        yield SummaryBar(id="summary")
        yield Static(id="namespaces")  # each IPC namespace, on a machine with containers
        yield Static(id="notice")
        with PaneTabs(id="tabs"):
            for number, pane in enumerate(PANES, 1):
                with TabPane(TAB_LABELS[number - 1], id=f"tab-{pane.pane_id}"):
                    yield pane()
        yield NarrationPanel()
        yield FilterBar(kept=self._filter_kept)
        yield SearchBar(kept=self._search_kept)
        yield KeyBar()

    def on_resize(self) -> None:
        self.show_tab_labels()

    def show_tab_labels(self) -> None:
        """Every tab's label whole: the short titles where the full ones do not fit."""
        labels = SHORT_TAB_LABELS if self.size.width < TABS_LEFT_PADDED else TAB_LABELS
        tabs = self.query_one(TabbedContent)
        for pane, text in zip(PANES, labels, strict=True):
            tab = tabs.get_tab(f"tab-{pane.pane_id}")
            if tab.label_text != text:
                tab.label = text

    def on_mount(self) -> None:
        self.show_tab_labels()
        self.ipctop.updated.subscribe(self, self.show_update)
        self.apply_view_settings(self.ipctop.settings, check=True)
        self.show_state()
        self.set_focus(self.current_pane.table)

    # --- what the handlers and the app see -------------------------------------------

    @property
    def current_pane(self) -> Pane:
        active = self.query_one(TabbedContent).active or f"tab-{PANES[0].pane_id}"
        return self.query_one(f"#pane-{active.removeprefix('tab-')}", Pane)

    def pane(self, pane_id: str) -> Pane:
        return self.query_one(f"#pane-{pane_id}", Pane)

    @property
    def panes(self) -> tuple[Pane, ...]:
        """Every pane, in the order of the tabs (they are made once, with the screen)."""
        if not self._panes:
            self._panes = tuple(self.query(Pane))
        return self._panes

    def context(self) -> ActionContext:
        pane = self.current_pane
        app = self.ipctop
        return ActionContext(app, pane.pane_id, pane.selected, app.state.snapshot, app.readonly, tagged_objects(pane))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "do":
            return True
        spec = registry.get_action(str(parameters[0]))
        pane = self.current_pane
        tags = bool(pane.table.model.tagged)
        return registry.is_available(spec, pane.pane_id, pane.selected is not None, self.ipctop.readonly, tags)

    def on_key(self, event: events.Key) -> None:
        """A key of an action that does nothing here says so briefly, instead of nothing at all.

        Only for a key typed at the table (it reaches the screen before any binding runs: the
        filter's Enter, or the table's own keys, must go on to theirs)."""
        pane = self.current_pane
        if self.focused is not pane.table or event.key in pane.table.own_keys:
            return
        answer = why_not(event.key, pane.pane_id, pane.selected is not None, self.ipctop.readonly,
                         bool(pane.table.model.tagged))  # fmt: skip
        if answer:
            event.stop()
            self.notify(answer, timeout=4)

    async def action_do(self, action_id: str) -> None:
        await self.run_registered(action_id)

    async def run_registered(self, action_id: str) -> None:
        spec = registry.get_action(action_id)
        pane = self.current_pane
        tags = bool(pane.table.model.tagged)
        if not registry.is_available(spec, pane.pane_id, pane.selected is not None, self.ipctop.readonly, tags):
            return
        result = spec.handler(self.context())
        if hasattr(result, "__await__"):
            await result  # type: ignore[misc]

    # --- keeping up with scans ---------------------------------------------------------

    def show_update(self, _update: Update) -> None:
        self.show_state()

    def show_state(self) -> None:
        """Bring the visible pane up to date; the others catch up when they are shown."""
        state = self.ipctop.state
        current = self.current_pane
        current.show(state)
        for pane in self.panes:
            if pane is not current:
                pane.stale = True
        self.show_summary()
        namespaces = namespaces_line(state.snapshot)
        if namespaces != self._shown_namespaces:
            self._shown_namespaces = namespaces
            self.query_one("#namespaces", Static).update(Content(namespaces))  # names hold brackets: not markup
            self.query_one("#namespaces").display = bool(namespaces)
        notice = uninspectable_notice(state.snapshot)
        if notice != self._shown_notice:
            self._shown_notice = notice
            self.query_one("#notice", Static).update(notice)
            self.query_one("#notice").display = bool(notice)
        self.refresh_bindings_if_changed()

    def refresh_bindings_if_changed(self) -> None:
        """Refresh the bindings only if a key became usable or unusable (Textual works out the screen's
        bindings again for each refresh; the KeyBar then redraws only if the keys it shows changed)."""
        pane = self.current_pane  # check_action's, found once rather than for each action
        where, selected, readonly = pane.pane_id, pane.selected is not None, self.ipctop.readonly
        tags = bool(pane.table.model.tagged)
        usable = tuple(registry.is_available(spec, where, selected, readonly, tags) for spec in registry.all_actions())
        if usable != self._usable:
            self._usable = usable
            self.refresh_bindings()

    def show_summary(self) -> None:
        app = self.ipctop
        scope = (*app.scope_now(), *self._view_notes())
        width = self.size.width - 2  # app.tcss: #summary has a padding of 1 on each side
        inputs = (summary_inputs(app.state.snapshot), app.interval, app.paused, scope, width)
        if inputs == self._summary_inputs:  # the same line again (making it parses markup: not each scan)
            return
        self._summary_inputs = inputs
        markup = summary_markup(app.state.snapshot, app.interval, app.paused, scope, width=width)
        if markup != self._shown_summary:  # an update lays the line out again: only when it changed
            # one line before and after: the screen's layout stays, only the line is painted again
            one_line = markup.cell_length <= width and self._summary_one_line
            self._shown_summary, self._summary_one_line = markup, markup.cell_length <= width
            self.query_one(SummaryBar).update(markup, layout=not one_line)

    def view_settings(self) -> dict[str, tuple[str | None, bool, tuple[str, ...], tuple[str, bool, tuple[()]]]]:
        """Each pane's sort, order and hidden columns, with its defaults: (sort, reverse, hidden, defaults)."""
        views = {}
        for pane in self.panes:
            table = pane.table
            hidden = tuple(column.key for column in pane.columns if column.key in table.hidden)
            views[pane.pane_id] = (table.sort_column, table.sort_reverse, hidden,
                                   (pane.default_sort, pane.default_reverse, ()))  # fmt: skip
        return views

    def apply_view_settings(self, settings: Settings, *, check: bool = False) -> None:
        """Each pane's sort and hidden columns from `settings` (the defaults where it says nothing);
        `check`: say what in them the monitor has no use for (a file from another version)."""
        panes = self.panes
        if check:
            problems = settings.problems({p.pane_id: [c.key for c in p.columns] for p in panes},
                                         list(self.app.available_themes))  # fmt: skip
            if problems:
                self.notify(f"Settings left out: {'; '.join(problems)}.", severity="warning", timeout=8)
        for pane in panes:
            saved = settings.pane(pane.pane_id)
            keys = [column.key for column in pane.columns]
            sort = saved.sort if saved.sort in keys else pane.default_sort
            reverse = saved.reverse if saved.sort in keys else pane.default_reverse
            if (sort, reverse) != (pane.table.sort_column, pane.table.sort_reverse):
                pane.sort_by(sort, reverse)
            pane.set_hidden(frozenset(key for key in saved.hidden if key in keys))

    def _view_notes(self) -> tuple[str, ...]:
        """What the summary line says of the current pane's view: a row followed, rows tagged."""
        if not self.is_mounted:
            return ()
        pane = self.current_pane
        notes = []
        followed = pane.followed
        if followed is not None:
            notes.append(f"following {follow_label(pane.table.row_for(followed), followed, brief=True)}")
        tagged = len(pane.table.model.tagged)
        if tagged:
            notes.append(f"{tagged} tagged")
        return tuple(notes)

    # --- view operations used by the view handlers ------------------------------------

    def show_pane(self, pane_id: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{pane_id}"
        self._arrive_at_pane()  # now, not when the tabs say so: the keys typed next are the new pane's

    def open_filter(self) -> None:
        bar = self.query_one(FilterBar)
        if self.focused is bar.input:  # `/` is a priority key: typed in the filter, it is text
            bar.input.insert_text_at_cursor("/")
            return
        bar.value = self.current_pane.filter_text
        bar.add_class("-open")
        self.set_focus(bar.input)  # now, not after a refresh: the keys typed next are the filter's

    def clear_filter(self) -> None:
        search = self.query_one(SearchBar)
        if self.focused is search.input:  # Escape in the search line closes it; the filter stays
            self._close_search()
            return
        bar = self.query_one(FilterBar)
        pane = self.current_pane
        pane.set_filter("")
        bar.value = ""
        bar.remove_class("-open")
        self.set_focus(pane.table)  # now: the key typed next is the table's
        self.refresh_bindings()  # the key bar shows the table's keys again (set_focus waits for a refresh)

    def open_search(self) -> None:
        """F3: open the search line (with the pane's last text); in the line, go to the next match."""
        bar = self.query_one(SearchBar)
        pane = self.current_pane
        if self.focused is bar.input:
            self.search_next(1)
            return
        bar.value = pane.search_text
        bar.add_class("-open")
        self.set_focus(bar.input)  # now: the keys typed next are the search's

    def search_next(self, step: int) -> None:
        """n (step 1) and N (-1): the next or previous row containing the pane's search text."""
        pane = self.current_pane
        if not pane.search_text:
            self.notify(f"{'n' if step > 0 else 'N'}: nothing to look for yet; F3 searches.", timeout=4)
            return
        if not pane.search(pane.search_text, step):
            self.notify(f"No row contains “{pane.search_text}”.", timeout=4)
        self.show_summary()

    def follow(self) -> None:
        """F: the cursor stays on the selected row's object (or stops following it)."""
        pane = self.current_pane
        key = pane.follow_selected()
        if key is not None:
            self.notify(f"Following {follow_label(pane.table.row_for(key), key)}: the cursor stays on it; "
                        "F again, or a move of the cursor, stops.", timeout=4)  # fmt: skip
        else:
            self.notify("No longer following.", timeout=3)
        self.show_summary()

    def toggle_tag(self) -> None:
        self.current_pane.table.toggle_tag()
        self.show_summary()
        self.refresh_bindings_if_changed()

    def clear_tags(self) -> None:
        self.current_pane.table.clear_tags()
        self.show_summary()
        self.refresh_bindings_if_changed()

    def _close_search(self) -> None:
        bar = self.query_one(SearchBar)
        bar.remove_class("-open")
        self.set_focus(self.current_pane.table)
        self.refresh_bindings()

    def _search_kept(self, value: str) -> None:
        """Enter in the search line: back to the table, where n and N go on."""
        self.current_pane.search_text = value
        self._close_search()

    @on(Input.Changed, "#search")
    def _search_typed(self, event: Input.Changed) -> None:
        found = self.current_pane.search(event.value, here=True)
        event.input.set_class(not found, "-nothing")

    def open_detail(self) -> None:
        pane = self.current_pane
        target = pane.detail_target()
        snapshot = self.ipctop.state.snapshot
        if target is not None:
            ipc_ns = snapshot.elsewhere(namespace_of(pane.selected)) if snapshot is not None else 0
            self.app.push_screen(DetailScreen(*target, ipc_ns=ipc_ns))

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, _event: TabbedContent.TabActivated) -> None:
        self._arrive_at_pane()  # a click on a tab; after show_pane there is nothing left to do

    def _arrive_at_pane(self) -> None:
        """The current pane brought up to date, its filter in the filter line, the focus on its table."""
        pane = self.current_pane
        if pane.pane_id == self._arrived_at:
            return
        self._arrived_at = pane.pane_id
        if pane.stale:
            pane.show(self.ipctop.state, fade=False, highlight=False)
        bar = self.query_one(FilterBar)
        bar.value = pane.filter_text
        bar.set_class(bool(pane.filter_text), "-open")
        self.query_one(SearchBar).remove_class("-open")
        self.set_focus(pane.table)
        self.show_summary()  # the new pane's row followed and rows tagged
        self.refresh_bindings()  # the new pane's keys (set_focus would wait for a refresh)

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self.current_pane.set_filter(event.value)

    def _filter_kept(self, value: str) -> None:
        """Enter in the filter: keep it and go back to the table (an empty one is cleared)."""
        if not value:
            self.clear_filter()
        else:
            self.set_focus(self.current_pane.table)
            self.refresh_bindings()

    @on(ObjectTable.RowSelected)
    def _row_chosen(self, _event: ObjectTable.RowSelected) -> None:
        self.open_detail()

    @on(ObjectTable.RowHighlighted)
    def _row_moved(self, _event: ObjectTable.RowHighlighted) -> None:
        self.refresh_bindings_if_changed()
        self.show_summary()  # a move of the cursor may have ended a follow


def tagged_objects(pane: Pane) -> tuple[object, ...]:
    """The objects of the pane's tagged rows, top to bottom (a row fading out is left out)."""
    table = pane.table
    rows = (table.row_for(key) for key in table.tagged_keys if not table.is_fading(key))
    return tuple(row.obj for row in rows if row is not None and row.obj is not None)
