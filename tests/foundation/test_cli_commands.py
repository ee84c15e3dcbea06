"""The command line names a command, and only that command's module is imported and its parsers built
(cli/main.py): the map of commands to modules is what the modules register, a command line parses to
the same arguments as with every parser, and `ipctop list --json` imports no other command's module."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys

import pytest

from ipctop.cli.main import COMMANDS, _Parser, build_parser
from tests.support.startup import list_json_imports


def test_each_module_registers_the_commands_the_map_gives_it():
    for module, commands in COMMANDS.items():
        parser = _Parser()
        subparsers = parser.add_subparsers(dest="command")
        importlib.import_module(module).register(subparsers, _Parser(add_help=False))
        assert sorted(subparsers.choices) == sorted(commands), module


@pytest.mark.parametrize("argv", [
    ["list", "--json"],
    ["--ns", "host", "list", "--type", "shm"],
    ["-d", "2", "--readonly", "list"],
    ["--delay=3", "-p", "1", "list"],
    ["shm", "rm", "5"],
    ["restore", "/nonexistent-backup"],
    ["pmsg", "list"],
    ["demo", "--list"],
    [],
    ["-d", "2"],
])
def test_a_command_line_parses_as_with_every_parser(argv):
    def parsed(parser: argparse.ArgumentParser) -> dict[str, object]:
        try:
            return vars(parser.parse_args(argv))
        except SystemExit as leaving:  # an error: the same for both, on the same words
            return {"exit": leaving.code}

    assert parsed(build_parser(argv)) == parsed(build_parser())


def test_help_and_unknown_commands_get_every_parser():
    everything = set(_choices(build_parser()))
    for argv in (["-h", "list"], ["--help"], ["nosuchcommand"], ["--del", "2", "list"], ["--", "list"]):
        assert set(_choices(build_parser(argv))) == everything, argv


def test_list_imports_no_other_commands_module():
    program = ("import sys\n"
               "from ipctop.cli.main import main\n"
               "code = main(['list', '--type', 'msg', '--json'])\n"
               "names = sorted(name for name in sys.modules if name.startswith('ipctop.cli.'))\n"
               "print(code, *names, file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    code, *imported = run.stderr.split()
    assert code == "0", run.stderr[-2000:]
    assert "ipctop.cli.list_cmd" in imported
    assert not set(imported) & (set(COMMANDS) - {"ipctop.cli.list_cmd"})


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def test_list_json_does_not_import_shutil_and_help_still_fits_the_terminal():
    # argparse's formatter imports shutil (and its compression modules) for the width unless told it
    assert list_json_imports("shutil") == {"shutil": False}
    narrow = subprocess.run([sys.executable, "-m", "ipctop", "list", "--help"], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "50"})
    assert narrow.returncode == 0 and max(map(len, narrow.stdout.splitlines())) <= 48, narrow.stdout
