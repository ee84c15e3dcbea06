"""The tab bar names all eight panes, each label whole, down to 80 columns (a common terminal size)."""

from __future__ import annotations

from tests.tui.helpers import fixture_app, run_async, screen_text

LABELS = ("1 Shared memory", "2 Queues", "3 Semaphores", "4 Pipes", "5 Processes", "6 Events", "7 Leaks", "8 POSIX")
# below 83 columns the full labels do not fit even with one space between them: Processes is "Procs"
SHORT = tuple(label.replace("Processes", "Procs") for label in LABELS)


def tab_line(text: str) -> str:
    return next(line for line in text.splitlines() if LABELS[0] in line)


@run_async
async def test_every_tab_label_is_whole_at_80_columns_and_spaced_when_there_is_room():
    for width, labels, gap in ((80, SHORT, " "), (82, SHORT, " "), (83, LABELS, " "), (90, LABELS, " "),
                               (91, LABELS, "  "), (120, LABELS, "  ")):
        app = fixture_app()
        async with app.run_test(size=(width, 24)) as pilot:
            await pilot.pause()
            line = tab_line(screen_text(app))
            assert gap.join(labels) in line, (width, line)
