"""Arbitrary text at every argument of the action commands: never a traceback, exit 0, 1 or 2,
and no object left behind by a command that failed.

Safety first: every id, pid or key the generated command lines could act on is
one this test made (three fixture objects, a holder child, keys from the test
range), or text that cannot be read as a number at all.  Commands that could
wait get --nowait right after the action, where no generated token can hide it,
and `shm hold` is left out (it waits for a signal by design).
"""

from __future__ import annotations

import contextlib
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from tests.actions.helpers import ipctop
from tests.support.keys import keys_in_use
from tests.support.leaks import objects_with_keys


def looks_numeric(text: str) -> bool:
    for base in (0, 10, 16):
        with contextlib.suppress(ValueError):
            int(text.strip(), base)
            return True
    return False


JUNK = st.text(max_size=12).filter(lambda s: not looks_numeric(s) and not s.startswith("@"))
NUMBERS = st.one_of(st.integers(-5, 70000).map(str), st.sampled_from(["0x10", "64K", "0600", "1,0,2", "-1", "+1"]))
VALUE = st.one_of(JUNK, NUMBERS, st.text(max_size=8))


class Fixture:
    """Three objects of the test's own, made again for each example, and a holder child."""

    def __init__(self, ipc_key, holders, tmp_path) -> None:  # type: ignore[no-untyped-def]
        self.keys = [ipc_key() for _ in range(4)]  # shm, msg, sem, and one with no object
        self.holders = holders
        self.child = holders.spawn("hold")
        self.ftok_file = tmp_path / "ftok-anchor"
        self.ftok_file.write_text("anchor")
        st_ = os.stat(self.ftok_file)
        self.ftok_keys = {(p << 24) | ((st_.st_dev & 0xFF) << 16) | (st_.st_ino & 0xFFFF) for p in range(1, 256)}
        assert not self.ftok_keys & keys_in_use()
        ipc_key.handed_out.update(self.ftok_keys)  # the leak guard watches them too
        self.all_keys = set(self.keys) | self.ftok_keys

    def make_objects(self) -> None:
        self.shmid = sysv.shmget(self.keys[0], 64, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
        self.msqid = sysv.msgget(self.keys[1], sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
        self.semid = sysv.semget(self.keys[2], 2, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
        if self.child.popen.poll() is not None:
            self.child = self.holders.spawn("hold")

    def actual(self, token: str) -> str:
        """The generated command line names the test's own objects by placeholders."""
        ours = {"@shm": self.shmid, "@msg": self.msqid, "@sem": self.semid, "@pid": self.child.pid}
        return str(ours[token]) if token in ours else token

    def remove_objects(self, printed_ids: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Remove what the example left; return objects a failed command should not have left."""
        left = [(kind, ident) for kind, ident, _ in objects_with_keys(self.all_keys)]
        for kind, ident in set(left) | set(printed_ids):
            with contextlib.suppress(IpcError):
                {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind](ident)
        return [item for item in left if item not in {("shm", self.shmid), ("msg", self.msqid), ("sem", self.semid)}]


def command_lines(fx: Fixture):  # type: ignore[no-untyped-def]
    def ours(placeholder: str):  # type: ignore[no-untyped-def]
        return st.one_of(st.just(placeholder), JUNK)

    key = st.one_of(st.sampled_from([hex(k) for k in fx.keys] + [str(fx.keys[3])]), JUNK)
    which_key = st.one_of(
        st.tuples(st.just("--key"), key).map(list),
        st.tuples(st.just("--ftok"), st.sampled_from([str(fx.ftok_file), "/no/such/path"]), VALUE).map(list),
    )
    shm_which = st.one_of(which_key, st.just(["--private"]))
    options = st.lists(st.sampled_from(["--excl", "--json", "--readonly"]), max_size=2, unique=True)
    mode = st.one_of(st.just([]), st.tuples(st.just("--mode"), VALUE).map(list))
    offset = st.one_of(st.just([]), st.tuples(st.just("--offset"), VALUE).map(list))
    file = st.sampled_from([[], ["--file", "nonexistent-file"], ["--file", str(fx.ftok_file)]])
    return st.one_of(
        st.tuples(st.just(["shm", "create"]), shm_which, st.tuples(st.just("--size"), VALUE).map(list), mode, options),
        st.tuples(st.just(["msg", "create"]), which_key, mode, options),
        st.tuples(st.just(["sem", "create"]), which_key, st.tuples(st.just("--values"), VALUE).map(list), mode,
                  options),
        st.tuples(st.just(["shm", "rm"]), st.lists(ours("@shm"), max_size=2)),
        st.tuples(st.just(["shm", "rm", "--key"]), key.map(lambda k: [k])),
        st.tuples(st.just(["shm", "chmod"]), st.lists(st.one_of(ours("@shm"), VALUE), max_size=3)),
        st.tuples(st.just(["shm", "chown"]), ours("@shm").map(lambda i: [i]), st.lists(VALUE, max_size=2)),
        st.tuples(st.just(["shm", "read"]), ours("@shm").map(lambda i: [i]),
                  st.lists(st.sampled_from(["--offset", "--length", "--raw"]) | VALUE, max_size=4)),
        st.tuples(st.just(["shm", "write"]), ours("@shm").map(lambda i: [i]), st.lists(VALUE, max_size=1),
                  offset, file),
        st.tuples(st.just(["msg", "send", "--nowait"]), ours("@msg").map(lambda i: [i]),
                  st.lists(VALUE, max_size=2), st.one_of(st.just([]), st.tuples(st.just("--type"), VALUE).map(list))),
        st.tuples(st.just(["msg", "recv", "--nowait"]), ours("@msg").map(lambda i: [i]),
                  st.one_of(st.just([]), st.tuples(st.just("--type"), VALUE).map(list)), options),
        st.tuples(st.just(["msg", "rm"]), st.lists(ours("@msg"), max_size=2)),
        st.tuples(st.just(["sem", "set"]), ours("@sem").map(lambda i: [i]), st.lists(VALUE, max_size=3)),
        st.tuples(st.just(["sem", "op", "--nowait"]), ours("@sem").map(lambda i: [i]), st.lists(VALUE, max_size=3)),
        st.tuples(st.just(["sem", "rm"]), st.lists(ours("@sem"), max_size=2)),
        st.tuples(st.just(["kill"]), ours("@pid").map(lambda p: [p]),
                  st.one_of(st.just([]), st.tuples(st.just("--signal"), st.one_of(JUNK, st.sampled_from(
                      ["USR1", "0", "65", "sigusr2", "CONT", "TERM", "hup"]))).map(list))),
    ).map(lambda parts: [token for part in parts for token in part])


def printed_ids(argv: list[str], out: str) -> list[tuple[str, int]]:
    if argv[1:2] != ["create"]:
        return []
    text = out.strip()
    with contextlib.suppress(ValueError):
        return [(argv[0], json.loads(text)["id"] if text.startswith("{") else int(text))]
    return []


def test_arbitrary_command_lines_never_escape_and_leave_nothing(ipc_key, holders, tmp_path):
    fx = Fixture(ipc_key, holders, tmp_path)
    problems: list[str] = []
    codes: list[tuple[str, int]] = []

    @given(data=st.data())
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(data) -> None:  # type: ignore[no-untyped-def]
        symbolic = data.draw(command_lines(fx))
        result = None
        try:
            fx.make_objects()
            argv = [fx.actual(token) for token in symbolic]
            result = ipctop(*argv)  # any exception but SystemExit fails the test here
        finally:
            left = fx.remove_objects(printed_ids(symbolic, result.out) if result and result.code == 0 else [])
        codes.append((symbolic[0] + " " + symbolic[1], result.code))
        assert result.code in (0, 1, 2), (argv, result)
        assert "Traceback" not in result.err, (argv, result.err)
        if result.code != 0:
            assert result.err.strip(), (argv, "a failure must say why")
            if left:
                problems.append(f"{argv} failed ({result.err.strip()}) and left {left}")

    run()
    assert problems == []
    assert {code for _, code in codes} == {0, 1, 2}, "the examples should reach success, refusal and usage errors"
