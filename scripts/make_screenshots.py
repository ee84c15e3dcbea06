#!/usr/bin/env python3
"""Write a picture of every pane of the monitor (and its detail, help and a demo) to screenshots/.

The pictures come from a fixed, made-up busy machine (tests/support/fixture_world.py:
the snapshot tests' fixture with PostgreSQL, a backup pipeline, make -j4, a Python
multiprocessing job, a memfd, a POSIX queue and a container on top),
so they are the same on every run and every machine, at a projector's 100x30.  The
monitor is shown as run by root with its default interval (every 2s); it never scans
again while the picture is taken.

Each is an SVG in which every character has its own x position, one cell of the
terminal apart, in DejaVu Sans Mono (Debian: fonts-dejavu-core): a renderer then
cannot shift coloured cells by the width of another font's glyphs, as it did with
the text runs Textual writes (stretched to their length in whatever font stood in
for Fira Code).  With `rsvg-convert` on the PATH (Debian: librsvg2-bin) a PNG is
written beside it.

    python scripts/make_screenshots.py [--size 100x30] [--out screenshots]
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

from rich.cells import cell_len  # noqa: E402

from ipctop.tui.app import IpctopApp  # noqa: E402
from tests.support.fixture_demo import show_fixture_demo  # noqa: E402
from tests.support.fixture_evidence import FIXTURE_LEAK_FILTERS, fixture_evidence  # noqa: E402
from tests.support.fixture_world import WorldFeed  # noqa: E402
from tests.tui.helpers import play_fixture  # noqa: E402

# (file name, keys pressed after the fixture has played)
SHOTS = (
    ("demo-running", ["4"]),
    ("1-shared-memory", ["1"]),
    ("2-message-queues", ["2"]),
    ("3-semaphores", ["3"]),
    ("4-pipes", ["4"]),
    ("5-processes", ["5"]),
    ("6-events", ["6"]),
    ("7-leaks", ["7"]),
    ("8-posix", ["8"]),  # PostgreSQL's buffer pool (shared anonymous memory) and every process that maps it
    ("lecture", ["5", "L"]),
    ("demo-picker", ["D"]),
    ("detail", ["1", "down", "enter"]),  # PostgreSQL's System V segment: 56 bytes, attached by every backend
    ("help", ["question_mark"]),
)

# What to show before the keys are pressed: a made-up demo over the fixture (it runs nothing).
BEFORE = {"demo-running": show_fixture_demo, "lecture": show_fixture_demo}

_TEXT = re.compile(r'<text ([^>]*?)x="([\d.]+)"([^>]*?) textLength="([\d.]+)"([^>]*)>([^<]*)</text>')
_FONT = re.compile(r"font-family: Fira Code, monospace;")
_WEB_FONT = re.compile(r'\s*url\("https://[^"]*"\) format\("[^"]*"\)[,;]?')
MONOSPACE = "Fira Code, DejaVu Sans Mono, monospace"
SPACES = " \u00a0"


def monospace_svg(svg: str) -> str:
    """Textual's SVG with every word of text at its own cell, stretched to exactly its cells.

    Textual writes a run of text as one <text> stretched to its length (textLength), spaces
    included; a renderer that drops the spaces at its ends (rsvg), or a font whose glyphs are not
    exactly a cell wide, then shifts what follows by part of a cell against the coloured
    rectangles.  Each word (a run without spaces) gets its own <text> at the x of its first cell
    and the length of its cells: nothing is left for a renderer to move.  (An x per character
    would be simpler; rsvg-convert 2.54 reads only the first.)  The web fonts are left out: a
    picture must not need the network."""

    def place(match: re.Match[str]) -> str:
        before, x, middle, length, after, content = match.groups()
        chars = html.unescape(content)
        cells = cell_len(chars)
        if not cells:
            return ""
        width = float(length) / cells
        words: list[tuple[float, str]] = []
        at, word, start = float(x), "", float(x)
        for char in [*chars, " "]:
            if char in SPACES:
                if word:
                    words.append((start, word))
                word = ""
            else:
                if not word:
                    start = at
                word += char
            at += cell_len(char) * width
        return "".join(
            f'<text {before}x="{start:.1f}"{middle} textLength="{cell_len(word) * width:.1f}"'
            f' lengthAdjust="spacingAndGlyphs"{after}>{html.escape(word, quote=False)}</text>'
            for start, word in words
        )

    svg = _FONT.sub(f"font-family: {MONOSPACE};", svg)
    svg = _WEB_FONT.sub("", svg)
    return _TEXT.sub(place, svg)


class StillApp(IpctopApp):
    """The monitor with its default interval that does not scan again while the picture is taken."""

    def _tick(self) -> None:
        pass


async def shoot(name: str, keys: list[str], size: tuple[int, int], out: Path) -> Path:
    app = StillApp(WorldFeed(), interval=2.0, leak_evidence=fixture_evidence, leak_filters=FIXTURE_LEAK_FILTERS)
    async with app.run_test(size=size) as pilot:
        await play_fixture(pilot)
        if name in BEFORE:
            BEFORE[name](app)
        await pilot.press(*keys)
        await pilot.pause(0.2)
        path = out / f"{name}.svg"
        path.write_text(monospace_svg(app.export_screenshot(title=f"ipctop — {name}")))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100x30", help="terminal size, WIDTHxHEIGHT (default 100x30)")
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
            subprocess.run([converter, "-o", str(svg.with_suffix(".png")), str(svg)], check=True)
    if not converter:
        print("rsvg-convert not found (Debian: apt-get install librsvg2-bin): wrote SVG only", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
