"""The screenshots' SVG (scripts/make_screenshots.py): every word of text sits on its own cells, so that
no renderer can shift coloured cells by part of a cell, as rsvg-convert did with Textual's runs."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_screenshots.py"
spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
assert spec is not None and spec.loader is not None
make_screenshots = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_screenshots)

TEXT = re.compile(r'<text [^>]*?x="([^"]+)"[^>]*?textLength="([\d.]+)"[^>]*>([^<]*)</text>')
RECT = re.compile(r'<rect fill="[^"]+" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"')
CELL = 12.2  # what Textual's export makes a cell (20px × 0.61)


def test_every_word_of_a_picture_is_on_its_own_cells(tmp_path):
    svg = asyncio.run(make_screenshots.shoot("4-pipes", ["4"], (100, 30), tmp_path)).read_text()
    words = TEXT.findall(svg)
    assert len(words) > 100
    for x, length, word in words:
        assert " " not in x, "one x per word"
        assert "&#160;" not in word and " " not in word, word
        assert float(x) / CELL == pytest.approx(round(float(x) / CELL), abs=0.01), (x, word)
        assert float(length) / CELL == pytest.approx(round(float(length) / CELL), abs=0.01), (length, word)
    for x, _width in RECT.findall(svg):  # the coloured cells are on the same grid
        assert float(x) / CELL == pytest.approx(round(float(x) / CELL), abs=0.01)
    assert "url(\"https://" not in svg  # no web font: the picture needs no network
    shown = [word for _x, _length, word in words]
    assert shown[shown.index("every") + 1] == "2s"  # the default interval, not the fixture's hour
    assert "inspected" not in shown  # root sees every process: no line about those it cannot


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert is not installed")
def test_rsvg_convert_renders_it(tmp_path):
    svg = asyncio.run(make_screenshots.shoot("1-shared-memory", ["1"], (100, 30), tmp_path))
    png = tmp_path / "shot.png"
    subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
