"""A key pressed by a test's pilot waits for Textual's animations at most ANIMATION_SECONDS.

Textual's `Pilot.press` sends each key, then waits for the app's animator to
report that no animation is running or scheduled (`Animator.wait_until_complete`),
with no time limit.  In stop 30's CI, and twice since, that report never came: the
press waited until the test's own limit.  What ipctop's tests check does not depend
on a tab's underline having finished sliding, so the wait is bounded; a wait that
runs out is told as a warning with what the animator held (the run's summary lists
it), so that the cause can be found without failing a test over it.  The first such
warning named it: the underline slid back and forth between two tabs for a minute,
the monitor's tabs passed between two panes by stale focus messages (fixed in
tui/widgets/pane_tabs.py).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator

import pytest
from textual._animator import Animator

ANIMATION_SECONDS = 10.0  # the longest animation of ipctop's screens is a tab underline's 0.3 s


class AnimationsDidNotEnd(UserWarning):
    """The animator still had work ANIMATION_SECONDS after a key press."""


def describe(animator: Animator) -> str:
    return (f"running {animator._animations!r}, scheduled {list(animator._scheduled)!r}, "
            f"timer active {animator._timer._active.is_set()}, timer task {animator._timer._task!r}, "
            f"complete {animator._complete_event.is_set()}")


@pytest.fixture(autouse=True)
def bounded_animation_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    unbounded = Animator.wait_until_complete

    async def wait_until_complete(self: Animator) -> None:
        try:
            await asyncio.wait_for(unbounded(self), ANIMATION_SECONDS)
        except TimeoutError:
            warnings.warn(AnimationsDidNotEnd(f"a key press waited {ANIMATION_SECONDS:g} s for the animator: "
                                              f"{describe(self)}"), stacklevel=2)

    monkeypatch.setattr(Animator, "wait_until_complete", wait_until_complete)
    yield
