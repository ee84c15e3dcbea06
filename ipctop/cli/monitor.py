"""`ipctop` with no command: the live monitor.

Kept separate from the subcommands so that importing the CLI never loads textual.
Quitting, SIGTERM and SIGHUP all restore the terminal and exit 0.  The settings
saved from the monitor (ipctop/settings.py) are read here unless --no-config; -d
wins over the saved interval.
"""

from __future__ import annotations

import argparse

from ipctop.cli.common import CliError, UsageError, pid_list, user_id
from ipctop.settings import Settings, SettingsError, config_path, load


def run_monitor(args: argparse.Namespace) -> int:
    pids = pid_list(args.pid)
    uid = user_id(args.user)
    path = config_path()
    try:
        settings = Settings() if args.no_config else load(path)
    except SettingsError as error:
        raise CliError(f"{error} (ipctop --no-config starts without it)") from None
    if args.ns is not None:
        from ipctop.actions.in_namespace import check_names
        from ipctop.actions.validators import ValidationError

        try:
            check_names(args.ns)  # each name must name a namespace now; it is matched again at each scan
        except ValidationError as error:
            raise UsageError(str(error)) from None
    from ipctop.tui.app import IpctopApp

    app = IpctopApp(
        interval=args.delay or settings.interval or 2.0,
        settings=settings,
        settings_path=path,
        lecture=args.lecture,
        pids=pids,
        uid=uid,
        user=args.user,
        readonly=args.readonly,
        handle_signals=True,
        namespaces=args.ns,
    )
    result = app.run()
    return app.return_code if app.return_code is not None else int(result or 0)
