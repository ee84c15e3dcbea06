"""Keys typed quickly take effect in the order they were typed, and Escape stays Escape.

Order.  Textual runs a priority binding (`/`) as soon as its key arrives, but hands
any other key to the focused widget's queue, from which it bubbles up, queue by
queue, to the bindings of the screen and the app.  Typed quickly, `1 /` in pane 6
then opened pane 6's filter before `1` had switched to pane 1; and a key that moves
the focus (`/` into the filter) could not redirect the keys already queued behind
it.  So the app lets one key through at a time: a key handed to a widget is
followed by a `KeyHandled` marker on the same path, and the next key waits until
the marker reaches the app (or, should a widget vanish with it, for a second).

Escape.  A terminal sends Escape as ESC, and Alt+x as ESC x: the parser tells them
apart by time only (ESCDELAY, 100 ms), so Escape typed quickly before `1` arrived
as Alt+1 and did nothing, and before `/` the Escape was dropped.  ipctop binds no
Alt keys, so ESC followed by a printable character is read as Escape, then that
character (`EscapeThenKeyParser`, installed for the Linux terminal driver).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from textual import events
from textual._xterm_parser import XTermParser
from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

LOST_AFTER = 1.0  # seconds: a marker not back by then went with its widget; the next key goes on


class KeyHandled(Message, bubble=True):
    """Follows a key along its way to the app: when it arrives, the key has been handled."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number


class KeysInOrder:
    """The app's gate for keys: one at a time, each after the one before has been handled."""

    def __init__(self, app: App[object], handle: Callable[[events.Key], Awaitable[None]]) -> None:
        self.app = app
        self.handle = handle  # what Textual does with a key (App.on_event)
        self.waiting: deque[events.Key] = deque()
        self._in_flight: int | None = None  # the number of the marker under way
        self._since = 0.0
        self._numbers = 0

    async def arrived(self, key: events.Key) -> None:
        if self._in_flight is not None and time.monotonic() - self._since > LOST_AFTER:
            self._in_flight = None
        self.waiting.append(key)
        if self._in_flight is None:
            await self._go_on()
        else:
            self.app.set_timer(LOST_AFTER, self._check_lost)

    async def handled(self, marker: KeyHandled) -> None:
        if marker.number == self._in_flight:
            self._in_flight = None
            await self._go_on()

    async def _check_lost(self) -> None:
        if self._in_flight is not None and time.monotonic() - self._since > LOST_AFTER:
            self._in_flight = None
            await self._go_on()

    async def _go_on(self) -> None:
        while self.waiting and self._in_flight is None:
            key = self.waiting.popleft()
            target: MessagePump = self.app.focused or self.app.screen  # where Textual hands the key
            await self.handle(key)
            if key.is_forwarded:  # handed to the target's queue: the next key waits for it
                self._numbers += 1
                if target.post_message(KeyHandled(self._numbers)):
                    self._in_flight, self._since = self._numbers, time.monotonic()


class EscapeThenKeyParser(XTermParser):
    """ESC followed by a printable character is Escape, then that character: never Alt+key, nor
    the character macOS's Option key gives with it (Textual reads ESC 1 as `¡` for WezTerm)."""

    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        if alt and sequence.isprintable():  # what came after an ESC that began no sequence
            yield events.Key("escape", "\x1b")
            alt = False
        elif len(sequence) == 2 and sequence[0] == "\x1b" and sequence[1] not in SEQUENCE_STARTS \
                and sequence[1].isprintable():  # fmt: skip
            yield events.Key("escape", "\x1b")
            yield from super()._sequence_to_key_events(sequence[1])
            return
        yield from super()._sequence_to_key_events(sequence, alt)


SEQUENCE_STARTS = "[O"  # ESC [ and ESC O begin the sequences of arrows, function keys, the mouse


def read_escape_as_escape() -> None:
    """Make the Linux terminal driver parse input with EscapeThenKeyParser (before the app runs)."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = EscapeThenKeyParser  # type: ignore[misc]
