"""Thin, typed wrappers over the System V IPC system calls (no UI, no /proc)."""
