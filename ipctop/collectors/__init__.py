"""Collectors: pure readers of /proc and of the IPC system calls.

Nothing here imports textual or rich; `ipctop list --json` and the cleanup run on
these alone.  Each collector takes a `ProcFS` so that tests can point it at a
small fixture tree.
"""
