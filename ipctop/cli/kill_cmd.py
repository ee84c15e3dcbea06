"""`ipctop kill PID [--signal NAME]`: send a signal to one process, by pid only.

It refuses pid 1 (init), its own pid and its parent's (the shell that ran it):
a slip of the finger there takes the machine, or the user's session, down.
"""

from __future__ import annotations

import argparse
import sys

from ipctop.cli.object_args import guarded


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    kill = subparsers.add_parser("kill", parents=[common], help="send a signal to a process (TERM by default)",
                                 description="Send a signal to one process, given by its pid (never a group). "
                                 "Refuses pid 1 (init), ipctop itself and its parent (the shell that ran it).")
    kill.add_argument("pid", metavar="PID")
    kill.add_argument("--signal", default="TERM", metavar="NAME",
                      help="a name (TERM, INT, HUP, KILL, USR1, ...) or number (default TERM)")
    kill.set_defaults(func=run_kill)


@guarded("kill", mutating=True, namespaced=False)
def run_kill(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    pid = validators.check_may_signal(validators.parse_pid(args.pid, field="PID"), field="PID")
    signum = validators.parse_signal(args.signal, field="--signal")
    pending = operations.send_signal(pid, signum)
    if pending:  # the signal was sent but waits: said, where kill(1) says nothing
        print(f"ipctop kill: {pending}.", file=sys.stderr)
    return 0
