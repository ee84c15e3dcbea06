"""`ipctop list` as a user runs it: the installed command, tables and JSON, filters, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ipctop.kernel import sysv
from tests.support.installed import installed_ipctop


def ipctop(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ipctop", *args], capture_output=True, text=True, timeout=60)


def test_json_has_typed_values_and_documented_fields(ipc_key, holders):
    key = ipc_key()
    shmid = sysv.shmget(key, 10000, sysv.IPC_CREAT | 0o640)
    semid = sysv.semget(ipc_key(), 2, sysv.IPC_CREAT | 0o600)
    try:
        holder = holders.spawn("shm-attach", shmid, "ro")
        result = ipctop("list", "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert set(data) >= {"shm", "msg", "sem", "pipes", "fifos", "processes", "limits", "uninspectable_pids"}
        segment = next(s for s in data["shm"] if s["shmid"] == shmid)
        assert segment["key"] == key and segment["perms"] == 0o640 and segment["size"] == 10000
        assert segment["nattch"] == 1 and segment["status"] == [] and segment["original_key"] is None
        fields = "shmid key perms size nattch cpid lpid uid gid cuid cgid owner atime dtime ctime rss swap status"
        assert set(segment) >= set(fields.split()) | {"attachers", "original_key"}
        assert [(a["pid"], a["mode"]) for a in segment["attachers"]] == [(holder.pid, "r")]
        assert set(segment["attachers"][0]) == {"pid", "comm", "start", "end", "mode", "vmas"}
        sem_set = next(s for s in data["sem"] if s["semid"] == semid)
        assert sem_set["values"] == [0, 0] and sem_set["nsems"] == 2 and sem_set["ncnt"] == [0, 0]
        assert isinstance(data["limits"]["shmmni"], int)
    finally:
        sysv.shm_remove(shmid)
        sysv.sem_remove(semid)


def test_tables_show_hex_keys_and_human_sizes(ipc_key):
    key = ipc_key()
    shmid = sysv.shmget(key, 3 * 1024 * 1024, sysv.IPC_CREAT | 0o600)
    try:
        result = ipctop("list", "--type", "shm")
        assert result.returncode == 0
        line = next(line for line in result.stdout.splitlines() if line.startswith(f"0x{key:08x}"))
        assert str(shmid) in line and "3M" in line and "rw-------" in line
        assert "Pipes" not in result.stdout
    finally:
        sysv.shm_remove(shmid)


def test_pid_filter_keeps_only_what_the_process_holds(ipc_key, holders):
    mine = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    other = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        holder = holders.spawn("shm-attach", mine)
        data = json.loads(ipctop("list", "--json", "--pid", str(holder.pid)).stdout)
        assert [s["shmid"] for s in data["shm"]] == [mine]
        assert [p["pid"] for p in data["processes"]] == [holder.pid]
        assert all(any(e["pid"] == holder.pid for e in p["ends"]) for p in data["pipes"])
    finally:
        sysv.shm_remove(mine)
        sysv.shm_remove(other)


def test_user_filter(ipc_key):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        assert any(s["shmid"] == shmid for s in json.loads(ipctop("list", "--json", "--user", "root").stdout)["shm"])
        for_nobody = json.loads(ipctop("list", "--json", "--user", "nobody").stdout)["shm"]
        assert all(65534 in (s["uid"], s["cuid"]) for s in for_nobody)
        assert shmid not in [s["shmid"] for s in for_nobody]
    finally:
        sysv.shm_remove(shmid)


def test_bad_input_is_one_sentence_and_exit_2():
    for args in (["list", "--type", "shm,bogus"], ["list", "--pid", "abc"], ["list", "--user", "no-such-user-xyz"]):
        result = ipctop(*args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_console_script_and_module_agree():
    command = installed_ipctop()
    assert command is not None, "no ipctop console script beside this Python or on PATH"
    installed = subprocess.run([command, "list", "--type", "sem"], capture_output=True, text=True, timeout=60)
    assert installed.returncode == 0 and installed.stdout.startswith("Semaphore sets")



def test_a_one_off_look_ends_without_teardown_yet_runs_atexit_and_writes_everything():
    """`ipctop list` from the command line ends by os._exit (cli.main._end_now): its output must still be
    whole, an atexit handler must still run after it, and a reader that goes away is no error."""
    program = ("import atexit, sys\n"
               "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
               "sys.argv = ['ipctop', 'list', '--json']\n"
               "from ipctop.cli.main import main\n"
               "main()\n"
               "print('main returned', file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["processes"]  # flushed whole: it parses
    # the handler ran, and nothing after main() did (the interpreter's teardown was skipped)
    assert result.stderr.strip().splitlines()[-1] == "atexit ran", result.stderr
    assert "main returned" not in result.stderr
    # a reader that reads one line and goes away: exit 0, no traceback, no "Exception ignored"
    command = installed_ipctop()
    assert command is not None
    piped = subprocess.run(f"'{command}' list --json | head -c 1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
                           shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60)
    assert piped.stdout.strip() == "0" and piped.stderr == "", (piped.stdout, piped.stderr)


def test_on_a_terminal_every_line_fits_its_width(ipc_key, holders):
    """`ipctop list` on a terminal of 80 columns: tables, notes and sentences alike fit (a note on an
    unmounted /dev/mqueue was printed whole, 186 columns)."""
    import fcntl
    import os
    import struct
    import termios

    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        holders.spawn("shm-attach", shmid, "ro")
        ours, theirs = os.openpty()
        fcntl.ioctl(theirs, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 80, 0, 0))
        env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
        with subprocess.Popen([sys.executable, "-m", "ipctop", "list"], stdin=theirs, stdout=theirs, stderr=theirs,
                              env=env) as listing:
            os.close(theirs)
            chunks = []
            while True:
                try:
                    chunk = os.read(ours, 1 << 16)
                except OSError:  # EIO: the terminal's other side is closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            os.close(ours)
            assert listing.wait(timeout=60) == 0
        lines = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
        assert any(line.startswith("Shared memory segments") for line in lines), lines[:5]
        too_wide = [line for line in lines if len(line) > 80]
        assert not too_wide, too_wide
    finally:
        sysv.shm_remove(shmid)

def _plain_reference(value):  # type: ignore[no-untyped-def]
    """What the JSON of an object is, read field by field the plain way (as jsonout did before its fast path)."""
    from ipctop.frozen import fields, is_record

    if isinstance(value, tuple | list):
        return [_plain_reference(v) for v in value]
    if is_record(value):
        return {name: _plain_reference(getattr(value, name)) for name in fields(value)}
    return value


def test_json_is_the_snapshot_field_by_field_with_an_object_to_a_line(ipc_key, holders):
    """The JSON's fast path (C encoder, a line per object) gives the same document as reading every field."""
    from ipctop.render.jsonout import snapshot_to_dict, snapshot_to_json
    from ipctop.snapshot import Scanner

    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        holders.spawn("shm-attach", shmid, "ro")
        snapshot = Scanner(remember_quiet=False).scan()
        document = snapshot_to_dict(snapshot)
        for kind in ("shm", "pipes", "processes", "uninspectable"):
            objects = snapshot.all_shm() if kind == "shm" else getattr(snapshot, kind)
            values = objects.values() if hasattr(objects, "values") else objects
            expected = [_plain_reference(v) for v in values]
            got = [{k: v for k, v in d.items() if k != "attachments_found"} for d in document[kind]]
            assert got == expected, kind
        text = snapshot_to_json(snapshot)
        assert json.loads(text) == json.loads(json.dumps(document))
        segment_lines = [line for line in text.splitlines() if f'"shmid": {shmid},' in line]
        assert len(segment_lines) == 1 and json.loads(segment_lines[0].strip().rstrip(","))["shmid"] == shmid
    finally:
        sysv.shm_remove(shmid)


def test_list_takes_p_and_u_as_the_monitor_does(ipc_key, holders):
    """`ipctop -p PID` filters the monitor; `ipctop list -p PID` was refused ("unrecognized arguments")."""
    mine = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        holder = holders.spawn("shm-attach", mine)
        short = ipctop("list", "--json", "-p", str(holder.pid), "-u", "root")
        assert short.returncode == 0, short.stderr
        data = json.loads(short.stdout)
        assert [s["shmid"] for s in data["shm"]] == [mine]
        assert [p["pid"] for p in data["processes"]] == [holder.pid]
    finally:
        sysv.shm_remove(mine)


def test_a_filtered_list_names_the_other_holders_as_the_whole_list_does(holders):
    """A filter keeps a pipe's row whole, and the other processes on it keep their names there
    (`python child.py[pid]`), though the Processes table lists only the processes asked for."""
    read_fd, write_fd = os.pipe()
    try:
        first = holders.spawn("hold", pass_fds=(read_fd,))
        second = holders.spawn("hold", pass_fds=(read_fd,))
    finally:
        os.close(read_fd)
        os.close(write_fd)
    whole = ipctop("list", "--type", "pipe").stdout
    assert f"python child.py[{second.pid}]" in whole
    filtered = ipctop("list", "--type", "pipe", "--pid", str(first.pid))
    assert filtered.returncode == 0, filtered.stderr
    pipes, processes = filtered.stdout.split("\nProcesses (")
    assert f"python child.py[{second.pid}]" in pipes and f"python child.py[{first.pid}]" in pipes
    assert processes.startswith("1)") and str(second.pid) not in processes
