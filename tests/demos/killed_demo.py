"""Run `ipctop demo NAME`, kill its runner and its demo process together (SIGKILL) once it has
printed LINES lines, then clean up with THEN (`demo`: the next demo, `clean`: ipctop clean --yes)
and print, as JSON, what was there after the kill and what is left at the end.

Run by tests/demos/test_killed_demo.py inside IPC and mount namespaces of its own (a fresh
/tmp), so that it sees, and removes, only what its own demos make:

    python killed_demo.py NAME LINES THEN
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil

IPCTOP = [sys.executable, "-m", "ipctop"]


def sysv_objects() -> list[str]:
    found = []
    for kind in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{kind}") as f:
            found += [f"{kind} {line.split()[1]}" for line in f.readlines()[1:] if line.strip()]
    return found


def demo_files() -> list[str]:
    return sorted(name for name in os.listdir("/tmp") if name.startswith("ipctop-demo-"))


def alive(pids: set[int]) -> list[int]:
    living = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                living.append(pid)
        except psutil.NoSuchProcess:
            pass
    return sorted(living)


def wait_for(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def main(name: str, lines: int, then: str) -> dict[str, object]:
    runner = subprocess.Popen([*IPCTOP, "demo", name, "--speed", "4"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert runner.stdout is not None
    seen = 0
    while seen < lines and runner.stdout.readline():
        seen += 1
    demo = psutil.Process(runner.pid).children()
    assert len(demo) == 1, demo
    worker = demo[0]
    processes = {worker.pid} | {child.pid for child in worker.children(recursive=True)}
    # Together: both are frozen first, so that neither can react to the other's end (the demo
    # process would clean up on the SIGTERM its runner's death sends it).
    for pid in (worker.pid, runner.pid):
        os.kill(pid, signal.SIGSTOP)
    for pid in (runner.pid, worker.pid):
        os.kill(pid, signal.SIGKILL)
    runner.wait()
    runner.stdout.close()
    # The demo's children end on their own (PR_SET_PDEATHSIG): nobody signals them here.
    children_ended = wait_for(lambda: not alive(processes))
    after_kill = {"objects": sysv_objects(), "files": demo_files(), "processes": alive(processes)}
    if then == "demo":
        cleaner = subprocess.run([*IPCTOP, "demo", "pipe-eof", "--speed", "10"], capture_output=True, text=True)
    else:
        cleaner = subprocess.run([*IPCTOP, "clean", "--yes"], capture_output=True, text=True)
    return {
        "lines": seen,
        "children_ended": children_ended,
        "after_kill": after_kill,
        "cleaner": {"code": cleaner.returncode, "out": cleaner.stdout, "err": cleaner.stderr},
        "left": {"objects": sysv_objects(), "files": demo_files(), "processes": alive(processes)},
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
