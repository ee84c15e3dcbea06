"""Live IPC lessons: each demo is a real multi-process workload that makes the
system calls a C program would, narrated call by call.

Programmatic use (the CLI `ipctop demo` and the TUI both do this)::

    from ipctop.demos import DEMOS, DemoRun

    run = DemoRun("shm", speed=1.0, narrate=print, step_gate=None)
    run.start()          # starts the demo process; returns at once
    run.current          # MadeObjects still alive: .pids {pid: role}, .shm/.msg/.sem ids, .keys, .paths
    run.made             # the same, including what is gone since (thread-safe snapshots)
    run.current_step     # DemoStep(number, total, slug, title) being taken, or awaiting the gate
    run.stop()           # from any thread: stops it and removes everything it made
    run.wait()           # True once ended; run.outcome is 'finished', 'stopped' or 'failed'
    run.results          # figures it measured, e.g. {'pipe_capacity': 65536}
    run.kept             # what it left behind on purpose (shm-leak only)

`narrate(line)` gets each line of narration (step headings "[2/7] …", calls
"  server 4242: shmat(7, NULL, 0) = 0x7f…", notes "  # look: …"); `step_gate()`
is called before each step and the demo waits until it returns.  Both are
called from the run's reader thread (in the TUI: use call_from_thread, and
make the gate wait on a threading.Event the step key sets).  `with DemoRun(...)
as run:` stops and cleans up on leaving the block, whatever happens.

No textual import here: the demos are part of ipctop's headless core.
"""

from __future__ import annotations

from ipctop.demos.catalog import DEMOS, NAMES, DemoInfo, find
from ipctop.demos.runner import DemoRun, DemoStep, MadeObjects

__all__ = ["DEMOS", "NAMES", "DemoInfo", "DemoRun", "DemoStep", "MadeObjects", "find"]
