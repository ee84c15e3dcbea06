"""The monitor's tabs: Textual's TabbedContent, but a focus that has moved on does not switch back.

TabbedContent shows the pane in which a widget was focused, by a message each
TabPane posts when that happens; the message is handled later, in turn with the
others.  The monitor focuses the new pane's table each time it shows a pane
(`MainScreen.show_pane`), so panes shown one after the other faster than those
messages are handled (keys typed ahead, `2` `3` `4` `1`) left messages for panes
no longer shown, and each switched back to its pane when it came: the pane shown
last was not the one on the screen, and two such messages could pass the tabs back
and forth for good (a test's key press waited on the tab underline's animation for
a minute in stop 30's CI).  A message whose pane no longer holds the focus is
dropped here.
"""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane


class PaneTabs(TabbedContent):
    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.screen.focused
        if focused is None or event.tab_pane not in focused.ancestors_with_self:
            event.stop()
            event.prevent_default()  # TabbedContent's own handler would switch to that pane
