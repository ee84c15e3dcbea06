"""The demo process: `python -m ipctop.demos.worker --fd N --parent PID --speed X [--gated] NAME`.

Started by DemoRun (runner.py) in a session of its own, with one end of the
channel as fd N.  It runs the demo script, and whatever happens (the end, a
failure, SIGTERM, SIGINT, the runner going away) it then removes every process,
object and file it made, tells the runner how it ended, and exits.  The runner
ending (even by SIGKILL) sends it SIGTERM (PR_SET_PDEATHSIG), which ends the demo
the same way.  Its run record (registry.py) lets the next demo, or `ipctop clean`,
find what it made if it is itself killed before it can clean up.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import socket
import sys
import traceback
from types import FrameType

from ipctop.demos import catalog, protocol
from ipctop.demos.context import ACK, POKE, START, STOP_SIGNALS, DemoContext, DemoFailure, DemoStopped
from ipctop.demos.registry import RunRecord
from ipctop.demos.syscalls import die_with_parent, set_process_name
from ipctop.kernel.errors import IpcError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ipctop.demos.worker")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--parent", type=int, default=None, help="the runner's pid: end with it")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--gated", action="store_true")
    parser.add_argument("name", choices=catalog.NAMES)
    args = parser.parse_args(argv)
    info = catalog.find(args.name)
    assert info is not None
    sock = socket.socket(fileno=args.fd)
    os.set_inheritable(args.fd, False)  # children forked share it; programs they exec do not
    set_process_name(info.role)
    ctx = DemoContext(sock, info.role, args.speed, args.gated, info.steps)

    def on_stop_signal(number: int, _frame: FrameType | None) -> None:
        # Raise once: a second signal must not break into the cleanup the first one started.
        if not ctx.stopping:
            ctx.stopping = True
            raise DemoStopped(f"stopped by {signal.Signals(number).name}")

    # Children wait for POKE in sigwait and the parent collects ACKs with sigtimedwait:
    # both stay blocked from the start so that none is delivered, or lost, before.
    signal.pthread_sigmask(signal.SIG_BLOCK, {POKE, START, ACK})
    for number in STOP_SIGNALS:
        signal.signal(number, on_stop_signal)

    outcome, error = "finished", None
    try:
        if args.parent is not None:
            die_with_parent(args.parent, signal.SIGTERM)  # the runner's end is a stop signal
        ctx.record = RunRecord()
        module, function = info.entry.split(":")
        getattr(importlib.import_module(module), function)(ctx)
    except DemoStopped:
        outcome = "stopped"
    except (DemoFailure, IpcError, OSError) as failure:
        outcome, error = ("stopped", None) if ctx.stopping else ("failed", str(failure))
    except Exception as failure:  # a bug in a demo: still clean up, and say what it was
        traceback.print_exc()
        outcome, error = "failed", f"{type(failure).__name__}: {failure}"
    finally:
        while True:  # a stop signal may still arrive, once, before they are blocked
            try:
                signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
                break
            except DemoStopped:
                outcome, error = "stopped", None
        ctx.cleanup()
        if ctx.record is not None:
            ctx.record.close()
        with contextlib.suppress(OSError):
            protocol.send(sock, protocol.END, outcome=outcome, error=error)
    return 0 if outcome == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())
