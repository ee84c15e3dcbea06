"""The detail screen's table of the processes using an object, fitted to the width it is drawn in.

Left to itself, a rich Table narrower than its cells shrinks every column in proportion: at 120
columns a PostgreSQL segment's users showed `2…` for each pid and no "How" at all, and at 80 the
pids and users went too.  Here the widths come from render/fit.py, as the panes' do: the pid is
never cut, the process and how it uses the object always stay (the process cut in its name,
keeping its pid; "how" wrapped, an address range whole where there is room), and on a
narrow screen the user goes first, then the state.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions
from rich.table import Table
from rich.text import Text

from ipctop.render.escape import printable
from ipctop.render.fit import ColumnFit, ellipsize, ellipsize_label, fit_widths

COLUMNS = ("PID", "Process", "User", "State", "How")
_PRIORITY = (0, 0, 3, 2, 0)  # a narrow screen leaves out the user first, then the state
PROCESS_READABLE, PROCESS_LEAST = 24, 14  # a process's label: named readably; cut to no less
HOW_ONE_LINE, HOW_LEAST = 29, 16  # "how": an address range (29 characters) on one line; no less
USER_LEAST, STATE_LEAST = 10, 8
GAP = 2


@dataclass(frozen=True, slots=True)
class UserRow:
    pid: str
    process: str
    user: str
    state: str
    how: str

    def cells(self) -> tuple[str, ...]:
        return (self.pid, self.process, self.user, self.state, self.how)


class UsersTable:
    """A rich renderable: the rows, laid out in whatever width the screen gives them."""

    def __init__(self, rows: Sequence[UserRow]) -> None:
        self.rows = [tuple(printable(cell) for cell in row.cells()) for row in rows]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        yield self.table(options.max_width)

    def table(self, width: int) -> Table:
        naturals = [max([len(COLUMNS[i]), *(len(row[i]) for row in self.rows)]) for i in range(len(COLUMNS))]
        # beside the pid (never cut), the process and "how" share what is left, "how" on one line first
        left = width - naturals[0] - 2 * GAP
        how = HOW_ONE_LINE if left >= PROCESS_LEAST + HOW_ONE_LINE else HOW_LEAST
        process = max(PROCESS_LEAST, min(PROCESS_READABLE, left - how))
        minimums = (naturals[0], process, USER_LEAST, STATE_LEAST, how)
        fits = [ColumnFit(priority, natural, min(least, natural))
                for priority, natural, least in zip(_PRIORITY, naturals, minimums, strict=True)]
        # the table has no edge padding: the gap is between columns only
        widths = fit_widths(fits, width + GAP, gap=GAP)
        shown = [i for i, w in enumerate(widths) if w is not None]
        table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, GAP // 2))
        for i in shown:
            table.add_column(COLUMNS[i], width=widths[i], no_wrap=COLUMNS[i] != "How", overflow="fold")
        for row in self.rows:
            table.add_row(*(Text(self._cut(i, row[i], widths[i])) for i in shown))  # type: ignore[arg-type]
        return table

    @staticmethod
    def _cut(index: int, text: str, width: int) -> str:
        if COLUMNS[index] == "How":
            return text  # wrapped by the table, never cut
        return ellipsize_label(text, width) if COLUMNS[index] == "Process" else ellipsize(text, width)
