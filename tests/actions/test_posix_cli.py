"""`ipctop pshm|psem|pmsg ...` against real objects: each action does what it says, each bad input gets one
sentence (exit 2) before anything is done, each refusal by the kernel one sentence (exit 1)."""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import signal
import time

import pytest

import ipctop.actions.hexdump  # noqa: F401 - imported before dropping to nobody, who cannot read this Python
import ipctop.actions.posix  # noqa: F401
import ipctop.collectors.mappings  # noqa: F401
from ipctop.kernel import posix
from ipctop.kernel.libc import libc
from ipctop.keys import POSIX_BENCH_PREFIX, POSIX_DEMO_PREFIX
from tests.actions.helpers import ipctop, nobody_runs, run_as_nobody

PR_SET_DUMPABLE = 4


def _ok(*argv: object) -> str:
    result = ipctop(*argv)
    assert result.code == 0, result.err
    return result.out


def _refused(code: int, *argv: object) -> str:
    result = ipctop(*argv)
    assert result.code == code, (result.out, result.err)
    [line] = result.error_lines  # one sentence, never a traceback
    assert line.startswith("ipctop: ")
    return line


def test_shared_memory_create_write_read_chmod_chown_and_unlink(posix_name):
    name = posix_name()
    assert _ok("pshm", "create", name, "--size", "8K", "--mode", "0640").strip() == name
    path = posix.shm_path(name)
    try:
        st = os.stat(path)
        assert (st.st_size, st.st_mode & 0o777) == (8192, 0o640)  # exactly, whatever the umask
        _ok("pshm", "write", name, "hello", "--offset", "16")
        before = os.stat(path)
        out = _ok("pshm", "read", name, "--offset", "16", "--length", "5")
        assert out.startswith("00000010: 6865 6c6c 6f") and out.rstrip().endswith("hello")
        assert os.stat(path).st_atime_ns == before.st_atime_ns  # read with O_NOATIME
        _ok("pshm", "chmod", name, "600")
        _ok("pshm", "chown", name, "nobody:nogroup")
        st = os.stat(path)
        assert (st.st_mode & 0o777, st.st_uid) == (0o600, 65534)
        again = ipctop("pshm", "create", name, "--size", "100")
        assert again.code == 0 and "already existed and is left as it was" in again.err
        assert os.stat(path).st_size == 8192
        _refused(1, "pshm", "create", name, "--size", "100", "--excl")
        _ok("pshm", "rm", name)
        assert not os.path.exists(path)
    finally:
        if os.path.exists(path):
            posix.shm_unlink(name)


@pytest.mark.parametrize("argv, complaint", [
    (("pshm", "create", "/a/b", "--size", "1"), "NAME: '/a/b' has a / after the first character"),
    (("pshm", "create", "/", "--size", "1"), "NAME: the name is empty"),
    (("pshm", "create", "/" + "x" * 256, "--size", "1"), "NAME: the name is longer than 255 bytes"),
    (("psem", "create", "/" + "x" * 252), "NAME: the name is longer than 251 bytes"),
    (("pshm", "create", "/ok", "--size", "0"), "--size: an object must be at least 1 byte"),
    (("pshm", "create", "/ok", "--size", "lots"), "--size: 'lots' is not a size in bytes"),
    (("pshm", "create", "/ok", "--size", "1", "--mode", "999"), "--mode: '999' is not an octal mode"),
    (("pshm", "read", "/ipctop-test-absent"), "NAME: no POSIX shared memory object is named /ipctop-test-absent"),
    (("psem", "post", "/ipctop-test-absent"), "NAME: no named semaphore is named /ipctop-test-absent"),
    (("psem", "create", "/ok", "--value", "-1"), "--value: '-1' is outside 0..2147483647"),
    (("psem", "post", "/ok", "--count", "0"), "NAME: no named semaphore is named /ok"),
    (("pmsg", "send", "/ok", "x", "--priority", "32768"), "--priority: '32768' is outside 0..32767"),
    (("pmsg", "create", "/ok", "--max-messages", "0"), "--max-messages: '0' is outside 1..65536"),
    (("pmsg", "recv", "/ok", "--timeout", "soon"), "--timeout: 'soon' is not a number of seconds"),
    (("--readonly", "pshm", "rm", "/ok"), "pshm rm changes the system and --readonly is set"),
])
def test_bad_input_is_one_sentence_and_nothing_is_made(argv, complaint):
    before = _posix_entries()
    line = _refused(2, *argv)
    assert complaint in line, line
    assert _posix_entries() == before


def _posix_entries() -> set[str]:
    """What /dev/shm and /dev/mqueue hold, but for the objects of a benchmark or demo running beside the suite."""
    others = (POSIX_BENCH_PREFIX, POSIX_DEMO_PREFIX)
    return {
        f"{where}/{entry}" for where in ("/dev/shm", "/dev/mqueue") if os.path.isdir(where)
        for entry in os.listdir(where) if not entry.removeprefix("sem.").startswith(others)
    }


def test_rm_of_several_names_checks_all_first(posix_name):
    name = posix_name()
    _ok("pshm", "create", name, "--size", "1")
    try:
        line = _refused(2, "pshm", "rm", name, "/ipctop-test-absent")
        assert "no POSIX shared memory object is named /ipctop-test-absent" in line
        assert os.path.exists(posix.shm_path(name))  # nothing half-done
    finally:
        posix.shm_unlink(name)


def test_named_semaphore_post_wait_and_set(posix_name):
    name = posix_name()
    _ok("psem", "create", name, "--value", "2", "--mode", "640")
    try:
        assert os.stat(posix.sem_path(name)).st_mode & 0o777 == 0o640
        assert _ok("psem", "post", name, "--count", "3").strip() == "5"
        _ok("psem", "wait", name, "--nowait")
        _ok("psem", "set", name, "0")
        line = _refused(1, "psem", "wait", name, "--nowait")
        assert "EAGAIN: its value is 0" in line
        line = _refused(1, "psem", "wait", name, "--timeout", "0.1")
        assert line == f"ipctop: semaphore {name} stayed at 0 for 0.1 s: nothing was taken"
        _ok("psem", "set", name, "7")
        address = posix.sem_open(name, 0)
        try:
            assert posix.sem_getvalue(address) == 7
        finally:
            posix.sem_close(address)
        _ok("psem", "rm", name)
        assert not os.path.exists(posix.sem_path(name))
    finally:
        if os.path.exists(posix.sem_path(name)):
            posix.sem_unlink(name)


def test_queue_send_with_priorities_receive_and_full(posix_name):
    name = posix_name()
    _ok("pmsg", "create", name, "--max-messages", "2", "--message-size", "16")
    try:
        _ok("pmsg", "send", name, "low", "--priority", "1")
        _ok("pmsg", "send", name, "high", "--priority", "9")
        line = _refused(1, "pmsg", "send", name, "more", "--nowait")
        assert "EAGAIN: the queue is full" in line
        line = _refused(1, "pmsg", "send", name, "x" * 17)
        assert "EMSGSIZE" in line and "at most 16" in line
        assert json.loads(_ok("pmsg", "recv", name, "--json")) == {"priority": 9, "text": "high"}
        assert _ok("pmsg", "recv", name) == "low\n"
        line = _refused(1, "pmsg", "recv", name, "--timeout", "0.1")
        assert line == f"ipctop: queue {name} stayed empty for 0.1 s: nothing was received"
        _ok("pmsg", "chmod", name, "620")
        fd = posix.mq_open(name, os.O_RDONLY)
        try:
            assert os.fstat(fd).st_mode & 0o777 == 0o620
        finally:
            os.close(fd)
        _ok("pmsg", "rm", name)
        _refused(1, "pmsg", "send", name, "gone")
    finally:
        with contextlib.suppress(Exception):  # removed by the test already
            posix.mq_unlink(name)


def test_an_ordinary_user_is_refused_in_one_sentence(posix_name):
    name = posix_name()
    _ok("pshm", "create", name, "--size", "64", "--mode", "600")
    try:
        result = nobody_runs("pshm", "write", name, "x")
        assert result.code == 1 and len(result.error_lines) == 1
        assert "EACCES: its mode does not let you" in result.err
        result = nobody_runs("pshm", "read", name)
        assert result.code == 1 and len(result.error_lines) == 1
        assert "EACCES" in result.err
    finally:
        posix.shm_unlink(name)


def test_read_goes_through_a_process_that_maps_it_when_o_noatime_is_not_allowed(posix_name):
    """Only the owner may open with O_NOATIME: another user reads through a process of theirs that maps it."""
    name = posix_name()
    _ok("pshm", "create", name, "--size", "4096", "--mode", "644")
    try:
        fd = posix.shm_open(name, os.O_RDWR)
        os.pwrite(fd, b"through a mapper", 0)
        os.close(fd)

        def read_as_nobody() -> dict:
            # a process that changed its uid is not dumpable, and so not readable by its user: an ordinary
            # user's programs are
            libc()["prctl"](PR_SET_DUMPABLE, 1, 0, 0, 0)  # our own function object: others set argtypes on theirs
            mapper = os.fork()
            if mapper == 0:
                with open(posix.shm_path(name), "rb") as f:
                    area = mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ)  # noqa: F841 - kept mapped
                os.kill(os.getpid(), signal.SIGSTOP)
                os._exit(0)
            try:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    with open(f"/proc/{mapper}/stat") as f:
                        if f.read().rsplit(")", 1)[1].split()[0] == "T":
                            break
                    time.sleep(0.01)
                atime = os.stat(posix.shm_path(name)).st_atime_ns  # mmap itself touches it: after that
                result = ipctop("pshm", "read", name, "--length", "16", "--raw")
                unchanged = os.stat(posix.shm_path(name)).st_atime_ns == atime
                return {"code": result.code, "out": result.out, "err": result.err, "unchanged": unchanged}
            finally:
                os.kill(mapper, signal.SIGKILL)
                os.waitpid(mapper, 0)

        seen = run_as_nobody(read_as_nobody)
        assert seen == {"code": 0, "out": "through a mapper", "err": "", "unchanged": True}
    finally:
        posix.shm_unlink(name)
