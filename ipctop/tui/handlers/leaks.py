"""Leaks pane actions: remove the selected leaked object (or the tagged ones), or every removable one.

Both ask first, listing exactly what goes, then remove through
ipctop.cleanup.remove_candidates in a worker thread, which checks each object
again (same key and ctime, still unused) just before IPC_RMID and keeps it
otherwise.  The outcome of each object is shown under the table.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ipctop.render.escape import printable
from ipctop.tui.context import ActionContext
from ipctop.tui.registry import ActionSpec

if TYPE_CHECKING:
    from ipctop.cleanup import LeakCandidate, RemovalResult
    from ipctop.tui.panes.leaks import LeaksPane

LISTED_IN_FULL = 12  # candidates listed with their reason in the question; the rest by name only


def _pane(ctx: ActionContext) -> LeaksPane:
    from ipctop.tui.panes.leaks import LeaksPane

    pane = ctx.app.main_screen.pane("leaks")
    assert isinstance(pane, LeaksPane)
    return pane


def question(candidates: list[LeakCandidate]) -> str:
    """The confirmation: every object that would go, by kind, id and key, with the reason."""
    count = len(candidates)
    lines = [f"Remove {'this leaked object' if count == 1 else f'these {count} leaked objects'}?", ""]
    for candidate in candidates[:LISTED_IN_FULL]:
        lines.append(printable(f"• {candidate.label}, {candidate.owner}, {candidate.detail}: {candidate.reason}"))
    rest = candidates[LISTED_IN_FULL:]
    if rest:
        lines.append(f"• and {len(rest)} more: " + ", ".join(c.label for c in rest))
    lines += ["", "Each is checked again just before it goes: one that changed or came into use since is kept."]
    return "\n".join(lines)


def _confirm_and_remove(ctx: ActionContext, candidates: list[LeakCandidate]) -> None:
    from ipctop.cleanup import remove_candidates

    pane = _pane(ctx)

    def report(results: list[RemovalResult]) -> None:
        pane.show_outcome(results)
        removed = sum(result.removed for result in results)
        trouble = removed < len(results)
        summary = f"Removed {removed} of {len(results)} leaked objects."
        if trouble:
            summary += " " + " ".join(r.message[:1].upper() + r.message[1:] + "." for r in results if not r.removed)
        ctx.notify(summary, severity="warning" if trouble else "information")

    def remove() -> list[RemovalResult]:
        results = remove_candidates(candidates)
        with contextlib.suppress(RuntimeError):  # ipctop exited meanwhile: nobody to tell
            ctx.app.call_from_thread(report, results)
        return results

    ctx.confirm(question(candidates), lambda: ctx.run_in_thread(remove))


def remove_selected(ctx: ActionContext) -> None:
    from ipctop.cleanup import LeakCandidate

    if ctx.tagged:
        tagged = [c for c in ctx.tagged if isinstance(c, LeakCandidate)]
        removable = [c for c in tagged if c.removable]
        if not removable:
            ctx.fail("None of the tagged objects is removable: they are reported, never removed.")
            return
        _confirm_and_remove(ctx, removable)
        return
    candidate = ctx.selected
    if not isinstance(candidate, LeakCandidate):
        return
    if not candidate.removable:
        ctx.fail(f"{candidate.label} is reported, never removed: {candidate.reason}.")
        return
    _confirm_and_remove(ctx, [candidate])


def remove_all(ctx: ActionContext) -> None:
    candidates = _pane(ctx).listed_removable
    if not candidates:
        ctx.notify("Nothing to remove: no leaked object listed here is removable.")
        return
    _confirm_and_remove(ctx, candidates)


ACTIONS = (
    ActionSpec("leaks.remove", "x,delete,f9", "Remove", remove_selected, panes=frozenset({"leaks"}), mutates=True,
               show=True, needs_selection=True, tagged=True,
               help="Remove the selected leaked object, or the tagged ones, after checking each again (asks first)"),
    ActionSpec("leaks.remove_all", "X", "Remove all", remove_all, panes=frozenset({"leaks"}), mutates=True,
               show=True, help="Remove every removable leaked object listed, each checked again (asks first)"),
)  # fmt: skip
