#!/usr/bin/env python3
"""Write a picture of every pane of the monitor (and its detail and help) to screenshots/.

The pictures come from the same fixed, made-up machine as the snapshot tests
(tests/support/fixture_snapshot.py), so they are the same on every run and every
machine.  Each is an SVG; with `rsvg-convert` on the PATH (Debian: librsvg2-bin)
a PNG is written beside it.

    python scripts/make_screenshots.py [--size 120x32] [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ipctop.tui.app import IpctopApp  # noqa: E402
from tests.support.fixture_demo import show_fixture_demo  # noqa: E402
from tests.support.fixture_evidence import FIXTURE_LEAK_FILTERS, fixture_evidence  # noqa: E402
from tests.support.fixture_snapshot import FixtureFeed  # noqa: E402
from tests.tui.helpers import play_fixture  # noqa: E402

# (file name, keys pressed after the fixture has played)
SHOTS = (
    ("1-shared-memory", ["1"]),
    ("2-message-queues", ["2"]),
    ("3-semaphores", ["3"]),
    ("4-pipes", ["4"]),
    ("5-processes", ["5"]),
    ("6-events", ["6"]),
    ("7-leaks", ["7"]),
    ("demo-running", ["4"]),
    ("demo-picker", ["D"]),
    ("detail", ["1", "down", "enter"]),
    ("help", ["question_mark"]),
)

# What to show before the keys are pressed: a made-up demo over the fixture (it runs nothing).
BEFORE = {"demo-running": show_fixture_demo}

_TEXT = re.compile(r'(<text [^>]*?x=")([\d.]+)("[^>]*?textLength=")([\d.]+)("[^>]*>)([^<]*)(</text>)')


def for_rsvg(svg: str) -> str:
    """rsvg drops leading spaces and stretches text to textLength: trim the spaces, move x, shorten."""

    def fix(match: re.Match[str]) -> str:
        head, x, mid, length, tail, content, end = match.groups()
        chars = html.unescape(content)
        if not chars:
            return match.group(0)
        width = float(length) / len(chars)
        stripped = chars.strip("\u00a0 ")
        lead = len(chars) - len(chars.lstrip("\u00a0 "))
        if not stripped:
            return ""
        new_x = float(x) + lead * width
        new_length = len(stripped) * width
        return f"{head}{new_x:.1f}{mid}{new_length:.1f}{tail}{html.escape(stripped, quote=False)}{end}"

    return _TEXT.sub(fix, svg)


async def shoot(name: str, keys: list[str], size: tuple[int, int], out: Path) -> Path:
    app = IpctopApp(FixtureFeed(), interval=3600.0, leak_evidence=fixture_evidence,
                    leak_filters=FIXTURE_LEAK_FILTERS)
    async with app.run_test(size=size) as pilot:
        await play_fixture(pilot)
        if name in BEFORE:
            BEFORE[name](app)
        await pilot.press(*keys)
        await pilot.pause(0.2)
        path = out / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"ipctop — {name}"))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x32", help="terminal size, WIDTHxHEIGHT (default 120x32)")
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder to write to")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["TZ"] = "UTC"
    time.tzset()
    converter = shutil.which("rsvg-convert")
    for name, keys in SHOTS:
        svg = asyncio.run(shoot(name, keys, (width, height), out))
        print(svg.relative_to(out.parent) if out.parent in svg.parents else svg)
        if converter:
            fixed = svg.with_suffix(".rsvg.svg")
            fixed.write_text(for_rsvg(svg.read_text()))
            try:
                subprocess.run([converter, "-o", str(svg.with_suffix(".png")), str(fixed)], check=True)
            finally:
                fixed.unlink()
    if not converter:
        print("rsvg-convert not found (Debian: apt-get install librsvg2-bin): wrote SVG only", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
