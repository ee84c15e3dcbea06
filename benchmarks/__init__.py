"""ipctop's benchmark: a reproducible IPC load, and ipctop measured against lsfd, lsof and htop on it.

Run `python -m benchmarks.run --help`; see docs/performance.md for what is measured and why.
"""
