"""Every notification an app raises during a test is kept for the test, expired or not.

Textual drops a notification from `App._notifications` once its timeout (5 s by
default) has passed, and a test reads that list only when its pilot has the event
loop again.  On a loaded machine a pilot's key press can take longer than that (in
a namespaced run beside two busy loops, the confirmation of a removal did): the
notification came and went, and the test found none.  So each app keeps what it was
told to show, in order, in `raised_notifications`; the tests' `notifications(app)`
reads it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.app import App
from textual.notifications import Notify


def raised_notifications(app: App) -> list[str]:
    """The messages of every notification `app` has shown since it started, oldest first."""
    return list(app.__dict__.get("raised_notifications", ()))


@pytest.fixture(autouse=True)
def kept_notifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    shown = App._on_notify

    def on_notify(self: App, event: Notify) -> None:
        self.__dict__.setdefault("raised_notifications", []).append(event.notification.message)
        shown(self, event)

    monkeypatch.setattr(App, "_on_notify", on_notify)
    yield
