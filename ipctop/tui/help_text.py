"""How keys are named to a person, and where they apply: for the help screen, the command palette,
and the short answer to a key pressed where it does nothing."""

from __future__ import annotations

from ipctop.tui.panes import PANES
from ipctop.tui.registry import ActionSpec, all_actions, is_available

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "plus": "+",
    "minus": "-",
    "escape": "esc",
    "space": "Space",
    "left": "←",
    "right": "→",
    "f1": "F1",
    "f2": "F2",
    "f3": "F3",
    "f4": "F4",
    "f5": "F5",
    "f6": "F6",
    "f9": "F9",
    "f10": "F10",
}
PANE_TITLES = {pane.pane_id: f"{i} {pane.title}" for i, pane in enumerate(PANES, 1)}


def key_label(spec: ActionSpec) -> str:
    """Every key of the action, as typed: `? f1`; `(palette)` for an action without a key."""
    return " ".join(KEY_NAMES.get(k, k) for k in spec.keys) or "(palette)"


def where(spec: ActionSpec) -> str:
    """The panes an action works in, by number and name (`1 Shared memory, 2 Queues`); '' for all."""
    if not spec.panes:
        return ""
    return ", ".join(PANE_TITLES.get(p, p) for p in sorted(spec.panes, key=list(PANE_TITLES).index))


def why_not(key: str, pane_id: str, has_selection: bool, readonly: bool, has_tags: bool = False) -> str | None:
    """A short answer for a key that is an action's but does nothing here (`a Attach: only in
    1 Shared memory.`); None if it does something here, or is no action's key."""
    specs = [spec for spec in all_actions() if key in spec.keys]
    answers = [is_available(spec, pane_id, has_selection, readonly, has_tags) for spec in specs]
    if not specs or True in answers:
        return None
    shown = KEY_NAMES.get(key, key)
    if None in answers:
        return f"{shown} {specs[answers.index(None)].description}: select a row first."
    if readonly and all(spec.mutates for spec in specs):
        return f"{shown} {specs[0].description}: not with --readonly, which changes nothing."
    names = " / ".join(dict.fromkeys(spec.description for spec in specs))
    places = ", ".join(dict.fromkeys(place for spec in specs for place in where(spec).split(", ") if place))
    return f"{shown} {names}: only in {places}."
