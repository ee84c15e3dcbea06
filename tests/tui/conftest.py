"""The monitor's tests print clock times: make them the same on every machine."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
