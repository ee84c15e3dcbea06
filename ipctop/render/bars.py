"""Text gauges for fill levels: a bar of block characters and a percentage.

Pure text, shared by the monitor's tables and anything else that shows a level.
"""

from __future__ import annotations

EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int) -> str:
    """A left-aligned bar `width` cells wide, filled to `fraction` (clamped to 0..1) in eighths."""
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1  # a non-empty pipe or queue never looks empty
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part else "")
    return text.ljust(width, "·")


def percent(fraction: float) -> str:
    value = min(1.0, max(0.0, fraction)) * 100
    if 0 < value < 1:
        return "<1%"
    return f"{value:.0f}%"
