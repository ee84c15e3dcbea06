"""`ipctop demo`: list the IPC lessons, or run one in the foreground, narrated call
by call, for a lecturer to show in ipctop (or ipcs, lsof) in another terminal."""

from __future__ import annotations

import argparse
import math
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

from ipctop.cli.common import CliError, UsageError, refuse_if_readonly

if TYPE_CHECKING:
    from ipctop.demos.catalog import DemoInfo
    from ipctop.demos.runner import DemoRun

SPEEDS = (0.1, 10.0)


class _Terminated(Exception):
    """SIGTERM arrived: stop the demo and clean up like on Ctrl-C."""


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "demo", parents=[common], help="run a live IPC lesson (ipctop demo list)",
        description="Run a demo: real processes making the real IPC calls, each call printed with its "
        "result, so that you can watch them in ipctop, ipcs or lsof. Everything the demo makes is removed "
        "at the end or on Ctrl-C (shm-leak alone leaves its segment, on purpose).",
    )
    parser.add_argument("name", nargs="?", default="list", metavar="NAME",
                        help="a demo name, or 'list' (the default) to see them")
    parser.add_argument("--speed", default="1", metavar="X",
                        help="pace factor from 0.1 (ten times slower) to 10 (ten times faster); default 1")
    parser.add_argument("--step", action="store_true", help="wait for Enter before each step")
    parser.set_defaults(func=run)


def parse_speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        speed = math.nan
    if not SPEEDS[0] <= speed <= SPEEDS[1]:
        raise UsageError(f"--speed: {text!r} is not a number from {SPEEDS[0]:g} to {SPEEDS[1]:g} "
                         "(1 is normal, 2 twice as fast)")
    return speed


def run(args: argparse.Namespace) -> int:
    from ipctop.demos import catalog

    speed = parse_speed(args.speed)  # a bad value is refused even where it would not be used
    if args.name == "list":
        width = max(len(name) for name in catalog.NAMES)
        for info in catalog.DEMOS:
            print(f"{info.name:<{width}}  {info.description}")
        print("\nRun one with: ipctop demo NAME [--speed X] [--step]")
        return 0
    info = catalog.find(args.name)
    if info is None:
        raise UsageError(f"no demo is named {args.name!r}; the demos are: {', '.join(catalog.NAMES)}")
    refuse_if_readonly(args, "ipctop demo")
    return _run_demo(info, speed, args.step)


class _EnterGate:
    """A step gate that waits for Enter; once stdin is at its end it lets every step go."""

    def __init__(self) -> None:
        self.run: DemoRun | None = None
        self.at_end = False

    def __call__(self) -> None:
        step = self.run.current_step if self.run else None
        if self.at_end or step is None:
            return
        print(f"-- Enter for step {step.number}/{step.total}: {step.title} ", end="", flush=True)
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            line = ""
        if not line:
            self.at_end = True
            print()


def _run_demo(info: DemoInfo, speed: float, step: bool) -> int:
    from ipctop.demos import DemoRun
    from ipctop.render.escape import printable

    def say(line: str) -> None:
        print(printable(line), flush=True)  # paths and data from the machine in the narration

    gate = _EnterGate() if step else None
    run = DemoRun(info.name, speed=speed, narrate=say, step_gate=gate)
    if gate is not None:
        gate.run = run
    print(f"ipctop demo {info.name}: {info.description}")
    print(f"Lesson: {info.lesson}")
    print("Watch it live in another terminal: ipctop (or ipcs, lsof -p PID).\n", flush=True)

    def on_sigterm(_number: int, _frame: FrameType | None) -> None:
        raise _Terminated

    previous_sigint = signal.getsignal(signal.SIGINT)
    previous_sigterm = signal.signal(signal.SIGTERM, on_sigterm)
    code = 0
    try:
        run.start()
        run.wait()
    except (KeyboardInterrupt, _Terminated) as stop:
        code = 143 if isinstance(stop, _Terminated) else 130
        # A second Ctrl-C or SIGTERM must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        run.stop()
        print("\nStopped.", flush=True)
    finally:
        run.stop()
        signal.signal(signal.SIGTERM, previous_sigterm)
        signal.signal(signal.SIGINT, previous_sigint)
    return _report(run, code)


def _report(run: DemoRun, code: int) -> int:
    leftovers = run.leftovers()
    if leftovers:
        raise CliError(f"demo {run.info.name} could not remove: {', '.join(leftovers)}")
    if run.outcome == "failed":
        raise CliError(f"demo {run.info.name} failed: {run.error}; everything it made is removed")
    if code == 0:
        print(f"\nDone in {run.ended_at - run.started_at:.1f} s.")
    for (kind, ident), key in run.kept.items():
        print(f"Left behind on purpose: {kind} {ident} (key {key:#010x}). Remove it with "
              f"`ipctop clean --key {key:#010x} --older-than 0s --yes` or `ipctop {kind} rm {ident}`.")
    print("Everything else the demo made is gone." if run.kept else "Everything the demo made is gone.")
    return code
