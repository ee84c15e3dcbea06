"""The bottom line of keys (what Textual's Footer shows), drawn as one line of text.

Textual's Footer is a widget per key, composed again, with its CSS, each time the
screen's bindings are refreshed, which is at every change of focus: switching
panes in a 10,000-row monitor spent 150-200 ms of its 250 there.  This widget
draws the same line (the usable keys left, the command palette's right) and is
only repainted when the keys it shows changed.  A click on a key presses it.

The line fits the screen: where the keys of a pane do not fit, the palette's key
loses its word, then the keys are drawn closer together, then the keys every
pane has (Detail, Sort, Pause, Demo, Filter, Quit) are left out, in that order;
`?` stays, and the help and the palette list them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

KeyItem = tuple[str, str, str, bool, str]  # key, how it is shown, description, usable, binding id
# Left out first when the line is too long, by binding id (or action): every pane has them.
LEFT_OUT_FIRST = ("select_cursor", "view.sort", "view.pause", "demo.pick", "view.filter", "view.quit")


class KeyBar(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description", "key-bar--separator"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-bar--separator { color: $foreground 20%; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys: tuple[KeyItem, ...] = ()
        self._palette: KeyItem | None = None
        self._spans: list[tuple[int, int, KeyItem]] = []  # where each key is drawn, for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        keys, palette = self._shown_keys(screen)
        if (keys, palette) != (self._keys, self._palette):
            self._keys, self._palette = keys, palette
            self.refresh()

    def _shown_keys(self, screen: Screen) -> tuple[tuple[KeyItem, ...], KeyItem | None]:
        """The keys to show, one per action as the Footer shows them, and the command palette's."""
        app = self.app
        keys: dict[str, KeyItem] = {}
        palette = None
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            shown = app.get_key_display(binding)
            item = (binding.key, shown, binding.description, enabled, binding.id or binding.action)
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = item
            elif binding.show and binding.action not in keys:
                keys[binding.action] = item
        return tuple(keys.values()), palette

    def render(self) -> Text:
        width = self.size.width
        keys = list(self._keys)
        for compact in (False, True):
            for short_palette in ((False, True) if not compact else (True,)):
                line = self._line(keys, width, compact, short_palette)
                if line is not None:
                    return line
        for left_out in LEFT_OUT_FIRST:
            keys = [item for item in keys if item[4] != left_out]
            line = self._line(keys, width, True, True)
            if line is not None:
                return line
        return self._line(keys, width, True, True, crop=True)  # type: ignore[return-value]

    def _line(
        self, keys: list[KeyItem], width: int, compact: bool, short_palette: bool, crop: bool = False
    ) -> Text | None:
        """The keys in one line of `width` (None if they do not fit, unless `crop`)."""
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        dim = Style(dim=True)
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, KeyItem]] = []
        for item in keys:
            _key, shown, description, usable, _id = item
            start = line.cell_len
            extra = None if usable else dim
            line.append(f" {shown}" if compact else f" {shown} ", key_style + extra if extra else key_style)
            line.append(f" {description}" if compact else f"{description} ",
                        description_style + extra if extra else description_style)  # fmt: skip
            spans.append((start, line.cell_len, item))
        right = Text(no_wrap=True, end="")
        if self._palette is not None:
            _key, shown, description, _usable, _id = self._palette
            right.append("▏", self.get_component_rich_style("key-bar--separator"))
            right.append(shown, key_style)
            right.append(" " if short_palette else f" {description} ", description_style)
        if line.cell_len + right.cell_len > width and not crop:
            return None
        if self._palette is not None:
            start = max(0, width - right.cell_len)
            line.truncate(start, pad=True)
            spans = [(a, min(b, start), item) for a, b, item in spans if a < start]
            spans.append((start, width, self._palette))
            line.append_text(right)
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, (key, _shown, _description, usable, _id) in self._spans:
            if start <= event.x < end:
                if usable:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
