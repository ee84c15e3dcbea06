"""Pane 5: every process that holds an IPC object, as a tree by parent, with what it holds
and, in its State, what it is blocked on ("S msgrcv on queue 4, type 99").

Sorted by the Process column it is a tree (siblings that inherited a pipe from
their parent stand together); sorted by any other column, or with the tree turned
off (`t`, F5), a flat list.  In the tree, ← folds a process's children under it
(`name [+3]`) and → unfolds them.

A process that has just exited stays one scan, struck through, in its place in
the tree: the tree of that scan is drawn with it, so that the lines around it
(`├─`, `└─`) stay right while its siblings move up.

A demo's process that waits on no IPC object waits for the demo itself (the signal
or the pause that paces the lesson, never part of it): its State says `between steps`
rather than `sigwait`, so that a class reads only the waits the lesson is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import NamedTuple

from ipctop.kinds import BY_NAME
from ipctop.model import EXITED_STATES, HeldObject, Process, Snapshot, UnnamedShm
from ipctop.proctree import process_tree
from ipctop.render.escape import printable
from ipctop.render.fit import ELLIPSIS
from ipctop.render.procinfo import IPC_WAIT_WORDS, name_of, wait_word
from ipctop.render.waits import waits_cell_text
from ipctop.tui.panes.base import Pane
from ipctop.tui.panes.cells import age_cell
from ipctop.tui.rows import Cell, Column, ListCell, Role, Row, cut, num
from ipctop.tui.state import MonitorState


class BuiltRows(NamedTuple):
    """What ProcessesPane built its rows from, to patch them at the next scan (ProcessesPane._patched)."""

    tree: bool
    folded: frozenset[str]
    demo_pids: frozenset[int]
    processes: Mapping[int, Process]
    ancestors: Mapping[int, Process]  # the snapshot's: they make group lines of the tree
    rows: list[Row]
    at: dict[int, int]  # pid -> the index of its row


class TreeCell(Cell):
    """A process's name under its tree lines (and `[+N]` when N processes are folded under it).

    In a narrow column the name is cut first, the lines kept whole: they say whose child a
    process is, and lines cut short would draw `└─ checkpointer` as a sibling of its parent.
    Only a tree too deep for the column loses its leftmost lines, behind a `…`."""

    __slots__ = ("name", "prefix", "title")

    def __init__(self, prefix: str, name: str, sort: object, role: Role = None, head: str = "") -> None:
        super().__init__(prefix + name, sort=sort, role=role)
        self.prefix, self.name = printable(prefix), printable(name)  # cut apart when narrow: escaped apart too
        # where it does not fit, a title `postgres: checkpointer` under its postgres parent reads as
        # `checkpointer` (the line above names the program) rather than `postgres: c…`; '' otherwise
        self.title = printable(name[len(head) + 2 :]) if head and name.startswith(f"{head}: ") else ""

    def sorting_by(self, sort: object) -> TreeCell:
        """The same cell sorting by `sort` (its place in the tree): copied, the quickest way (every row
        below a process that came or went moves a line)."""
        cell = TreeCell.__new__(TreeCell)
        cell.plain, cell.spans, cell.role, cell.justify = self.plain, self.spans, self.role, self.justify
        cell.prefix, cell.name, cell.sort_key, cell.title = self.prefix, self.name, sort, self.title
        return cell

    def fitted(self, width: int) -> str:
        # whether and where the lines are cut depends on the lines alone, never on the name: siblings
        # (one prefix) keep their lines in one column, whatever the lengths of their names
        room = width - len(self.prefix)  # for the name, behind the whole prefix
        name = self.title if self.title and len(self.name) > max(room, NAME_AT_LEAST) else self.name
        if room >= NAME_AT_LEAST:
            return self.prefix + cut(name, room)
        keep = width - NAME_AT_LEAST  # of the prefix, from its right end, after a `…`
        if keep >= 4:
            return ELLIPSIS + self.prefix[len(self.prefix) - keep + 1 :] + cut(name, NAME_AT_LEAST)
        return cut(name, width)


# Where a demo's processes wait between the calls of a lesson: for a signal from the demo (sigwait),
# on its channel to the monitor (select, poll), or in its pauses (sleep).
DEMO_PACING = frozenset({"sigwait", "select", "poll", "sleep"})
NAME_AT_LEAST = 8  # the part of a name a tree's lines leave it in a narrow column


def holdings(process: Process, snapshot: Snapshot | None = None) -> list[str]:
    """What a process holds, briefly: `shm 3`, `pipe 50001 w`, `fifo /tmp/x r`, `msg 1`, `sem 2`, and
    POSIX and unnamed objects by name: `pshm /jobs`, `psem /lock`, `pmsg /q`, `memfd:x`, `anon 1212`."""
    held = [f"shm {shmid}" for shmid in process.shm]
    for end in process.pipes:
        held.append(f"{end.kind} {end.inode} {end.mode}")
    held += [f"msg {msqid}" for msqid in process.msg]
    held += [f"sem {semid}" for semid in process.sem]
    held += list(dict.fromkeys(posix_holding(item, snapshot) for item in process.posix))
    return held


def posix_holding(item: HeldObject, snapshot: Snapshot | None) -> str:
    obj = getattr(snapshot, BY_NAME[item.kind].field).get(item.inode) if snapshot is not None else None
    if isinstance(obj, UnnamedShm):
        return f"memfd:{obj.name}" if obj.source == "memfd" else f"anon {obj.inode}"
    return f"{item.kind} {obj.name}" if obj is not None else f"{item.kind} {item.inode}"


class ProcessesPane(Pane):
    pane_id = "processes"
    title = "Processes"
    short_title = "Procs"
    empty_text = "No process holds an IPC object that ipctop can see."
    default_sort = "process"
    sort_shapes_rows = True  # a tree by the Process column, a flat list by any other
    columns = (
        Column("process", "Process", shrink_to=14),
        Column("pid", "PID", 7),
        Column("user", "User", priority=3, shrink_to=8),
        Column("state", "State", priority=1, shrink_to=28),  # what it is blocked on, briefly; the detail has all
        Column("holds", "Holds", shrink_to=16),
        Column("age", "Age", 6, volatile=True, priority=4),  # since the process started
        Column("command", "Command", priority=5, shrink_to=12),
    )

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[tuple[object, ...], Row] = {}
        self.tree_view = True  # `t`: a tree when sorted by the Process column; False: always a flat list
        self.folded: set[str] = set()  # rows whose children are folded under them
        self._children: set[str] = set()  # rows with children shown under them, as last built
        self._demo_pids: frozenset[int] = frozenset()  # the running demo's processes
        self._last_built: BuiltRows | None = None  # the rows last built, and from what (None: build in full next)
        self._by_pid: dict[int, Row] | None = None  # the rows last built by pid (made when first needed)
        self._demo_before: frozenset[int] = frozenset()  # the demo's processes when they were built

    @property
    def showing_tree(self) -> bool:
        return self.tree_view and self.table.sort_column == "process"

    def rows_inputs(self, state: MonitorState) -> tuple[tuple[object, ...], tuple[object, ...]]:
        objects, values = super().rows_inputs(state)
        return objects, (*values, self.tree_view, frozenset(self.folded))

    def show(self, state: MonitorState, *, fade: bool = True, highlight: bool = True) -> None:
        tree = self.showing_tree
        self.table.sideways_taken = tree  # ← and → fold and unfold instead of scrolling
        # In the tree a row that vanished would fade where it stood while the tree moved around it:
        # an exited process is drawn in the tree of its last scan instead (build_rows), and a
        # `(parent)` line no longer needed goes at once.
        super().show(state, fade=fade and not tree, highlight=highlight)

    def toggle_tree(self) -> bool:
        """`t`: the tree (sorted by the Process column) or a flat list; True if it is a tree now."""
        if self.showing_tree:
            self.tree_view = False
            self._reshow()
            return False
        self.tree_view = True
        self.sort_by("process", reverse=False)
        return True

    def fold(self, fold: bool) -> None:
        """← (fold: the selected row's children go under it; on a row without any, the cursor goes
        to its parent) and → (unfold)."""
        table = self.table
        key = table.cursor_key
        if not self.showing_tree:
            self.notify("Folding is for the tree: t shows it.", timeout=4)
            return
        if key is None:
            return
        if fold and key in self._children and key not in self.folded:
            self.folded.add(key)
        elif fold:
            row = table.row_for(key)
            if row is not None and row.parent is not None and row.parent in table.model.rows:
                table.go_to(table.get_row_index(row.parent))
            return
        elif key in self.folded:
            self.folded.discard(key)
        else:
            return
        self._reshow()

    def build_rows(self, state: MonitorState) -> list[Row]:
        snapshot = state.snapshot
        assert snapshot is not None
        marks = self.demo_marks()
        demo_pids = frozenset(marks.pids) if marks is not None else frozenset()
        patched = self._patched(state, snapshot, demo_pids)
        if patched is not None:
            return patched
        # A process the snapshot did not change is the same object as last scan: its row is reused
        # when it stands at the same place in the tree (ages are drawn by the table, see AgeCell).
        previous, self._cache = self._cache, {}
        self._by_pid = None
        self._demo_before, self._demo_pids = self._demo_pids, demo_pids
        self._last_built = None
        if not self.showing_tree:
            self._children = set()
            rows = [
                self._cached_row(p, state, "", (name_of(p).lower(), p.pid), None, previous)
                for p in snapshot.processes.values()
            ]
            self._remember(snapshot, rows, tree=False)
            return rows
        # The processes that exited since the scan before are drawn in the tree with the others, once.
        before = state.previous
        exited = {} if before is None else {
            pid: process for pid, process in before.processes.items() if pid not in snapshot.processes
        }  # fmt: skip
        processes = {**snapshot.processes, **exited} if exited else snapshot.processes
        ancestors = snapshot.ancestors
        lines = process_tree(processes, ancestors)
        rows = []
        parents: list[str] = []  # the key of the latest row at each depth
        children: set[str] = set()
        skip_below: int | None = None  # the depth of a folded row whose children are being left out
        hidden: Row | None = None
        hidden_count = 0
        for order, line in enumerate(lines):
            if skip_below is not None:
                if line.depth > skip_below:
                    hidden_count += 0 if line.is_group else 1
                    continue
                rows[-1] = _with_folded(hidden, hidden_count)  # type: ignore[arg-type]
                skip_below = None
            del parents[line.depth :]
            parent = parents[-1] if parents else None
            if parent is not None:
                children.add(parent)
            if line.is_group:
                row = self._group_row(line.pid, order, line.prefix, ancestors.get(line.pid), state.now, parent)
            elif line.pid in exited:
                assert before is not None
                row = self._row(exited[line.pid], state, line.prefix, order, parent, gone_since=before.time)
            else:
                row = self._cached_row(snapshot.processes[line.pid], state, line.prefix, order, parent, previous)
            parents.append(row.key)
            rows.append(row)
            if row.key in self.folded:
                skip_below, hidden, hidden_count = line.depth, row, 0
        if skip_below is not None:
            rows[-1] = _with_folded(hidden, hidden_count)  # type: ignore[arg-type]
        self._children = children | {key for key in self.folded if key}
        self.folded &= {row.key for row in rows}  # a row gone takes its fold with it
        if not exited:  # a tree with an exited process in it is drawn once: the next is built in full
            self._remember(snapshot, rows, tree=True)
        return rows

    def _remember(self, snapshot: Snapshot, rows: list[Row], *, tree: bool) -> None:
        at = {row.obj.pid: index for index, row in enumerate(rows) if isinstance(row.obj, Process)}
        self._last_built = BuiltRows(tree, frozenset(self.folded), self._demo_pids, snapshot.processes,
                                     snapshot.ancestors, rows, at)

    def _patched(self, state: MonitorState, snapshot: Snapshot, demo_pids: frozenset[int]) -> list[Row] | None:
        """The rows last built with those of the processes that changed made again, when no process came,
        went or moved in the tree (its shape is then the same: only pids and parents make it) and the
        view is as it was; None where the rows must be built in full.

        So a scan of 10,000 processes of which a few ran costs a look at each process (is it the
        same object as last scan?) rather than the tree walked and every row looked up again."""
        built = self._last_built
        tree = self.showing_tree
        if built is None or (built.tree, built.folded, built.demo_pids) != (tree, frozenset(self.folded), demo_pids):
            return None
        processes, before = snapshot.processes, built.processes
        if processes.keys() != before.keys():
            return None  # a process came or went (the order a scan lists them in is no matter)
        if tree and snapshot.ancestors is not built.ancestors and snapshot.ancestors != built.ancestors:
            return None  # a group line came, went or changed (an ancestor ran: its title, its parent)
        previous = state.previous
        if tree and previous is not None and previous.processes is not before \
                and previous.processes.keys() != processes.keys():  # fmt: skip
            return None  # one exited since the scan before: the full build draws it once in the tree
        rows = list(built.rows)
        for pid, process in processes.items():
            old_process = before[pid]
            if old_process is process:
                continue
            if tree and process.ppid != old_process.ppid:
                return None  # it moved in the tree
            index = built.at.get(pid)
            if index is None:
                continue  # folded away under its parent: nothing of it is shown
            old = rows[index]
            if old.key in self.folded:
                return None  # its line says how many are folded under it: made in full
            first = old.cells[0]
            if tree:
                prefix, order, parent = getattr(first, "prefix", ""), first.sort_key, old.parent
            else:
                prefix, order, parent = "", (name_of(process).lower(), pid), None
            row = self._row(process, state, prefix, order, parent)
            self._cache[(pid, prefix, parent, pid in demo_pids)] = row
            rows[index] = row
        self._last_built = built._replace(processes=processes, rows=rows)
        return rows

    def _cached_row(
        self, process: Process, state: MonitorState, prefix: str, order: object, parent: str | None,
        previous: dict[tuple[object, ...], Row],
    ) -> Row:
        key = (process.pid, prefix, parent, process.pid in self._demo_pids)
        row = previous.get(key)
        if row is None or row.obj is not process:
            row = self._elsewhere(process, previous, prefix, order, parent, state) or self._row(
                process, state, prefix, order, parent)
        elif row.cells[0].sort_key != order:
            # The same row, a line higher or lower in the tree (a process came or went above it):
            # only its place changed, not what it shows.
            row = _with_order(row, order)
        self._cache[key] = row
        return row

    def _elsewhere(
        self, process: Process, previous: dict[tuple[object, ...], Row], prefix: str, order: object,
        parent: str | None, state: MonitorState,
    ) -> Row | None:
        """The process's row of the last build under other tree lines or another parent (the tree
        turned into a flat list by a sort, or back), made to stand here: what it shows of the
        process is the same.  None if the last build had no row of this very process."""
        if self._by_pid is None:
            self._by_pid = {row.obj.pid: row for row in previous.values() if isinstance(row.obj, Process)}
        row = self._by_pid.get(process.pid)
        if row is None or row.obj is not process or (process.pid in self._demo_before) != (
                process.pid in self._demo_pids):  # its State says `between steps` only in a demo
            return None
        first = row.cells[0]
        name = first.name if isinstance(first, TreeCell) else first.plain
        cell = TreeCell(prefix, name, sort=order, head=_program_above(process, state, parent))
        return Row(row.key, process, (cell, *row.cells[1:]), row.role, row.search, parent, row.gone_since)

    def _row(
        self, process: Process, state: MonitorState, prefix: str, order: object, parent: str | None = None,
        gone_since: float | None = None,
    ) -> Row:
        held = holdings(process, state.snapshot)
        waiting = waits_cell_text(process.waits, state.snapshot.fifos if state.snapshot else None)
        # no IPC wait: where it sleeps, as a short word for information (`S poll`, `S pause`); an IPC
        # word from wchan alone would be a guess, and what it is blocked on comes from its waits
        sleeps = "" if waiting else wait_word(process.wchan)
        sleeps = "" if sleeps in IPC_WAIT_WORDS else sleeps
        if process.state in EXITED_STATES:
            sleeps = "exited, not yet reaped"  # a zombie: listed until its parent waits for it
        paced = sleeps in DEMO_PACING and process.pid in self._demo_pids
        if paced:
            sleeps = "between steps"
        state_role: Role = "warn" if waiting else "muted" if paced else None
        cells = (
            TreeCell(prefix, name_of(process), sort=order, head=_program_above(process, state, parent)),
            num(process.pid),
            Cell(process.user),
            Cell(f"{process.state} {waiting or sleeps}".strip(), role=state_role),
            ListCell(held),
            age_cell(process.start_time, state.now),
            Cell(process.cmdline, role="muted"),
        )
        search = f"{' '.join(held)} {process.comm} {waiting or sleeps} {process.wchan}"
        return Row(f"p{process.pid}", process, cells, search=search, parent=parent, gone_since=gone_since)

    def _group_row(self, ppid: int, order: int, prefix: str = "", ancestor: Process | None = None,
                   now: float = 0.0, parent: str | None = None) -> Row:
        """A parent that holds nothing, dimmed: by its name where the scan read it, else `(parent)`."""
        muted = Cell("", sort="", role="muted")
        name = TreeCell(prefix, name_of(ancestor) if ancestor is not None else "(parent)", sort=order, role="muted")
        user = state = command = muted
        age = Cell("", sort=-1)
        if ancestor is not None:
            age = age_cell(ancestor.start_time, now)
            user = Cell(ancestor.user, role="muted")
            state = Cell(f"{ancestor.state} {wait_word(ancestor.wchan)}".strip(), role="muted")
            command = Cell(ancestor.cmdline, role="muted")
        cells = (name, num(ppid, role="muted"), user, state, muted, age, command)
        return Row(f"g{ppid}", None, cells, parent=parent)


def _program_above(process: Process, state: MonitorState, parent: str | None) -> str:
    """The program of the process's parent where the tree draws it right above (its comm: `postgres`,
    `nginx`), when the process's title names the same program; else ''."""
    snapshot = state.snapshot
    if parent not in (f"p{process.ppid}", f"g{process.ppid}") or snapshot is None:
        return ""  # a flat list, or a tree that draws another process above it
    above = snapshot.known_processes.get(process.ppid) or snapshot.ancestors.get(process.ppid)
    return above.comm if above is not None and name_of(process).startswith(f"{above.comm}: ") else ""


def _with_order(row: Row, order: object) -> Row:
    """The row with its Process cell sorting by `order` (its place in the tree), all else the same."""
    return row.sorting_by(order)


def _with_folded(row: Row, count: int) -> Row:
    """A folded row, its name followed by how many processes are folded under it: `[+3]`."""
    first = row.cells[0]
    if isinstance(first, TreeCell):
        cell: Cell = TreeCell(first.prefix, f"{first.name} [+{count}]", sort=first.sort_key, role=first.role)
        cell.title = f"{first.title} [+{count}]" if first.title else ""
    else:
        cell = Cell(f"{first.plain} [+{count}]", sort=first.sort_key, role=first.role)
    return replace(row, cells=(cell, *row.cells[1:]))
