"""`ipctop` with no command: the live monitor.

Kept separate from the subcommands so that importing the CLI never loads textual.
Quitting, SIGTERM and SIGHUP all restore the terminal and exit 0.
"""

from __future__ import annotations

import argparse

from ipctop.cli.common import UsageError, pid_list, user_id


def run_monitor(args: argparse.Namespace) -> int:
    pids = pid_list(args.pid)
    uid = user_id(args.user)
    if args.ns is not None:
        from ipctop.actions.in_namespace import check_names
        from ipctop.actions.validators import ValidationError

        try:
            check_names(args.ns)  # each name must name a namespace now; it is matched again at each scan
        except ValidationError as error:
            raise UsageError(str(error)) from None
    from ipctop.tui.app import IpctopApp

    app = IpctopApp(
        interval=args.delay,
        pids=pids,
        uid=uid,
        user=args.user,
        readonly=args.readonly,
        handle_signals=True,
        namespaces=args.ns,
    )
    result = app.run()
    return app.return_code if app.return_code is not None else int(result or 0)
