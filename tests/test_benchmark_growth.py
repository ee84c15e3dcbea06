"""The benchmark's verdict on how a one-off look grows (benchmarks/run.py, growth_rows): a ratio only
where what a quarter of the processes adds stands above how much the readings vary."""

from __future__ import annotations

from benchmarks.run import Table, growth_rows


def _size(processes: int, least: float, spread: float) -> dict[str, float | int]:
    return {"processes": processes, "snapshot_s": least + spread / 2, "snapshot_min_s": least,
            "snapshot_spread_s": spread, "json_s": 0.0, "json_bytes": 1000 * processes}


def _verdict(sizes: dict[str, dict[str, float | int]]) -> str:
    table = Table()
    growth_rows(table, "world", sizes)
    return table.rows[0][5]


def test_linear_growth_is_met_and_growth_twice_as_steep_is_missed():
    linear = {"0": _size(0, 0.010, 0.002), "0.25": _size(250, 0.040, 0.002), "0.5": _size(500, 0.070, 0.002),
              "1": _size(1000, 0.130, 0.002)}
    assert _verdict(linear) == "met"
    steeper = {**linear, "1": _size(1000, 0.250, 0.002)}
    assert _verdict(steeper) == "MISSED: 2.00x"


def test_a_quarter_that_adds_less_than_the_readings_vary_is_unmeasured_not_a_ratio():
    # pipes9900 on 3 Dec: a hoarder read at every size, none of the processes costing more than a quarter
    noisy = {"0": _size(0, 0.489, 0.084), "0.25": _size(250, 0.459, 0.027), "0.5": _size(500, 0.547, 0.068),
             "1": _size(1000, 0.688, 0.108)}
    verdict = _verdict(noisy)
    assert verdict.startswith("unmeasured: 1/4 adds -30 ms, within the 84 ms")
    assert "MISSED" not in verdict
