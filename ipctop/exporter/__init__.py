"""The Prometheus exporter: the snapshot as metrics, one scan per scrape.

- `metric.py`: how a metric is declared (`Metric`) and the families of one scrape (`Families`);
- `kinds/`: one module per kind of object, each saying how its objects are counted,
  ranked and exported (adding a kind is adding a module to `kinds.KINDS`);
- `waits.py`: who is blocked in which kind of wait, and for how long (`WaitClock`);
- `leaks.py`, `limits.py`: leaked objects and the system limits, over every kind;
- `build.py`: one snapshot -> the families of one scrape (pure but for the WaitClock);
- `collector.py`: the prometheus_client collector that owns the Scanner;
- `serve.py`: the HTTP endpoint and the textfile.

docs/exporter.md says what is exported and why it is built this way.
"""
