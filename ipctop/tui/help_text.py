"""How keys are named to a person, for the help screen and the command palette."""

from __future__ import annotations

from ipctop.tui.registry import ActionSpec

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "plus": "+",
    "minus": "-",
    "escape": "esc",
}


def key_label(spec: ActionSpec) -> str:
    """Every key of the action, as typed: `? f1`; `(palette)` for an action without a key."""
    return " ".join(KEY_NAMES.get(k, k) for k in spec.keys) or "(palette)"
