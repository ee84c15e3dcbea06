"""Test support: key allocation, child processes that hold real IPC objects, the leak guard."""
