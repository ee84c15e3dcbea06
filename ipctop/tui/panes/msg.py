"""Pane 2: System V message queues, with a fill gauge, who is blocked on each, and the depth over
the last minutes."""

from __future__ import annotations

from ipctop.history import sparkline
from ipctop.model import MsgQueue
from ipctop.tui.panes.base import Pane, row_key
from ipctop.tui.panes.cells import bytes_cell, gauge_cell, key_cell, perms_cell, process_cell, waiters_cell
from ipctop.tui.rows import Cell, Column, Row, num
from ipctop.tui.state import MonitorState

SPARK_WIDTH = 16


class MsgPane(Pane):
    pane_id = "msg"
    title = "Queues"
    empty_text = "No message queues."
    default_sort = "msqid"
    namespaced = True
    columns = (
        Column("msqid", "MsqID"),  # ids reach 10 digits: auto width, which only ever grows
        Column("key", "Key", 10),
        Column("owner", "Owner", priority=3, shrink_to=8),
        Column("qnum", "Msgs", 5),
        Column("cbytes", "Bytes", 6, priority=2),
        Column("fill", "Fill", 13),
        Column("waiters", "Blocked", priority=1, shrink_to=22),
        Column("depth", "Depth", SPARK_WIDTH, volatile=True, priority=4),
        Column("sender", "Sender", priority=1, shrink_to=12),
        Column("receiver", "Receiver", priority=1, shrink_to=12),
        Column("perms", "Perms", 9, priority=5),
    )

    def build_rows(self, state: MonitorState) -> list[Row]:
        assert state.snapshot is not None
        return [self._row(queue, state) for queue in state.snapshot.all_msg()]

    def _row(self, queue: MsgQueue, state: MonitorState) -> Row:
        snapshot = state.snapshot
        assert snapshot is not None
        depths = state.history.depths(queue.msqid, queue.key, snapshot.elsewhere(queue.ipc_ns))
        cells = (
            num(queue.msqid),
            key_cell(queue.key),
            Cell(queue.owner),
            num(queue.qnum, role="muted" if not queue.qnum else None),
            bytes_cell(queue.cbytes),
            gauge_cell(queue.cbytes, queue.qbytes),
            waiters_cell(snapshot, queue.waiters),
            Cell(sparkline(depths, SPARK_WIDTH), sort=max(depths, default=0)),
            process_cell(snapshot, queue.lspid),
            process_cell(snapshot, queue.lrpid),
            perms_cell(queue.perms),
        )
        return Row(row_key(snapshot, queue.msqid, queue.ipc_ns), queue, cells)
