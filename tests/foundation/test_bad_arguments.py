"""Bad arguments get one line naming the problem and exit 2: digits that are not 0-9 (`²`), empty
values (which are not "no filter"), and arguments holding a newline (escaped, on one line)."""

from __future__ import annotations

import contextlib
import io
import os

import pytest

from ipctop.cli.main import main


def run_cli(*argv: str) -> tuple[int, str, str]:
    """ipctop ARGV in this process, argparse's own exits included: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, says", [
    (["list", "--pid", "²"], "--pid: '²' is not a process id"),
    (["--pid", "٣", "list"], "--pid: '٣' is not a process id"),
    (["-u", "²", "list"], "--user: no user is named '²'"),
    (["list", "--user", "²"], "--user: no user is named '²'"),
    (["clean", "--user", "²"], "--user: no user is named '²'"),
    (["list", "--pid", ""], "--pid: an empty value is not a process id"),
    (["list", "--pid", "1,"], "--pid: an empty value is not a process id"),
    (["list", "--user", ""], "--user: an empty value is not a user"),
    (["list", "--type", ""], "--type: an empty value is not a type"),
    (["clean", "--type", ""], "--type: an empty value is not a type"),
    (["clean", "--user", "a\0b"], "--user: no user is named 'a\\x00b'"),
    (["restore", "/nonexistent/a\nb.json"], "cannot read /nonexistent/a\\nb.json: No such file or directory"),
    (["list", "extra\nargument"], "unrecognized arguments: extra\\nargument"),
    (["demo", "--speed", "abc"], "--speed: 'abc' is not a number from 0.1 to 10"),  # it listed the demos
])  # fmt: skip
def test_one_line_naming_the_problem(argv, says):
    code, out, err = run_cli(*argv)
    assert (code, out) == (2, "") and says in err, err
    assert err.splitlines()[-1].startswith("ipctop") and "Traceback" not in err
    assert all(line.isprintable() for line in err.splitlines()), repr(err)


def test_a_monitors_option_before_a_command_that_does_not_take_it_is_refused_and_nothing_is_done(ipc_key):
    """`ipctop -p 812 clean --yes` used to drop -p without a word and remove every leak on the machine."""
    from ipctop.kernel import sysv
    from tests.cleanup.helpers import create_segment_and_exit, objects_present

    key = ipc_key()
    create_segment_and_exit(key)
    try:
        clean = ["clean", "--yes", "--key", hex(key), "--older-than", "0s"]
        code, out, err = run_cli("-p", str(os.getpid()), *clean)
        assert (code, out) == (2, "")
        assert err == "ipctop: -p/--pid is for the monitor and `ipctop list`; `ipctop clean` does not take it, " \
                      "so nothing was done.\n"  # fmt: skip
        assert objects_present({key}) == {("shm", key)}
        assert run_cli("--ns", "host", "-d", "5", "list")[2].startswith("ipctop: -d/--delay is for the monitor;")
        assert run_cli("--lecture", "exporter", "--textfile", "/nonexistent/x.prom")[0] == 2
        code, _out, err = run_cli(*clean)  # without it the same command removes the segment
        assert code == 0, err
        assert objects_present({key}) == set()
    finally:
        with contextlib.suppress(Exception):
            sysv.shm_remove(sysv.shmget(key, 0, 0))


@pytest.mark.parametrize("argv, line", [
    (["list", "--foo"], "ipctop list: unrecognized arguments: --foo; see ipctop list --help"),
    (["-p", "1", "list", "--x"], "ipctop list: unrecognized arguments: --x; see ipctop list --help"),
    (["msg", "send", "1", "a", "b"], "ipctop msg send: unrecognized arguments: b; see ipctop msg send --help"),
    (["msg", "send"], "ipctop msg send: the following arguments are required: ID, TEXT; see ipctop msg send --help"),
    (["--bogus"], "ipctop: unrecognized arguments: --bogus; see ipctop --help"),
])  # fmt: skip
def test_argparse_errors_are_one_line_naming_the_command(argv, line):
    """argparse printed its usage, then an error naming `ipctop` for an option of `ipctop list`."""
    assert run_cli(*argv) == (2, "", line + "\n")
