"""`ipctop exporter` on the command line: bad input gets one sentence and exit 2, --textfile writes atomically."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from ipctop.cli.main import main
from tests.cleanup.helpers import run_cli
from tests.exporter.helpers import parse, value


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--listen", "localhost"], "--listen: 'localhost' is not an address and port"),
        (["--listen", "127.0.0.1:70000"], "--listen: '127.0.0.1:70000' is not an address and port"),
        (["--listen", "[::1]"], "--listen: '[::1]' is not an address and port"),
        (["--textfile", "/tmp/ipc.txt"], "does not end in .prom"),
        (["--textfile", "/nonexistent-ipctop-dir/ipc.prom"], "the directory /nonexistent-ipctop-dir does not exist"),
        (["--textfile", "/tmp/ipc.prom", "--interval", "5"], "--interval applies to --listen"),
        (["--interval", "soon"], "--interval: 'soon' is not a number of seconds"),
        (["--interval", "-1"], "--interval: '-1' is outside 0..3600 seconds"),
        (["--max-series", "-3"], "--max-series: '-3' is not a whole number from 0 to 100000"),
        (["--max-series", "many"], "--max-series: 'many' is not a whole number"),
        (["--ns", "web-container"], "--ns: no IPC namespace is named 'web-container'"),
        (["--ns", "host,"], "--ns: 'host,' has an empty name"),
        (["--ns", "4194303"], "--ns: no IPC namespace is named '4194303' or has it as inode or pid"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(args, phrase):
    code, out, err = run_cli("exporter", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("ipctop: ") and phrase in err, err


def test_a_port_in_use_is_one_sentence_and_exit_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run_cli("exporter", "--listen", f"127.0.0.1:{port}")
    assert code == 1 and out == ""
    assert err == f"ipctop: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_textfile_is_replaced_whole_and_nothing_else_is_left(tmp_path):
    path = tmp_path / "ipctop.prom"
    assert run_cli("exporter", "--textfile", str(path), "--ns", "host") == (0, "", "")
    first = os.stat(path).st_ino
    assert run_cli("exporter", "--textfile", str(path), "--ns", str(os.getpid())) == (0, "", "")
    assert os.stat(path).st_ino != first  # a new file renamed over the old one, never rewritten in place
    assert os.listdir(tmp_path) == ["ipctop.prom"]
    samples = parse(path.read_text())
    assert value(samples, "ipctop_scan_success") == 1 and value(samples, "ipctop_objects", kind="shm") is not None
    assert not [s for s in samples if s[0].startswith("process_")]  # those would clash with node_exporter's own


def test_help_names_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["exporter", "--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    options = ("--listen ADDR:PORT", "--textfile PATH", "--interval SECONDS", "--ns NAME|INODE|PID", "--max-series N")
    for option in options:
        assert option in shown
    assert "default :9868" in shown and "default 200" in shown


def imported(code: str, prefixes: tuple[str, ...]) -> list[str]:
    check = code + f"\nimport sys\nprint(','.join(m for m in sys.modules if m.split('.')[0] in {prefixes!r}))"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [m for m in result.stdout.strip().split(",") if m]


def test_the_exporter_runs_headless_and_other_commands_do_not_load_prometheus_client(tmp_path):
    textfile = tmp_path / "ipc.prom"
    code = f"from ipctop.cli.main import main\nassert main(['exporter', '--textfile', {str(textfile)!r}]) == 0"
    assert imported(code, ("textual", "rich")) == []
    code = "import contextlib, io\nfrom ipctop.cli.main import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    code += "    assert main(['list', '--json']) == 0"
    assert imported(code, ("prometheus_client",)) == []
