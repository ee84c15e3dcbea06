"""Holdings: ipctop's own attachments — read, write, detach, and release on exit or signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from ipctop.actions.holdings import HoldingError, Holdings, attached
from ipctop.kernel import sysv
from tests.actions.helpers import maps_mention
from tests.support.holders import wait_until


@pytest.fixture
def segment(ipc_key):
    shmid = sysv.shmget(ipc_key(), 100, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    yield shmid
    sysv.shm_remove(shmid)


def test_attach_write_read_detach(segment):
    holdings = Holdings()
    holding = holdings.attach(segment)
    try:
        assert (holding.size, holding.readonly, holding.mode) == (100, False, "rw")
        assert segment in holdings and len(holdings) == 1
        assert [line.split()[1] for line in maps_mention(os.getpid(), segment)] == ["rw-s"]
        assert sysv.shm_stat(segment).nattch == 1
        holdings.write(segment, 95, b"hello")
        assert holdings.read(segment, 95) == b"hello"
        assert holdings.read(segment, 0, 3) == bytes(3)
        with pytest.raises(HoldingError, match="already attached by ipctop"):
            holdings.attach(segment)
    finally:
        holdings.detach(segment)
    assert segment not in holdings and sysv.shm_stat(segment).nattch == 0
    assert maps_mention(os.getpid(), segment) == []
    with pytest.raises(HoldingError, match="is not attached by ipctop"):
        holdings.detach(segment)


def test_read_only_and_out_of_range_are_refused_instead_of_crashing(segment):
    holdings = Holdings()
    holdings.attach(segment, readonly=True)
    try:
        assert [line.split()[1] for line in maps_mention(os.getpid(), segment)] == ["r--s"]
        with pytest.raises(HoldingError, match="attached read-only"):
            holdings.write(segment, 0, b"x")
        with pytest.raises(HoldingError, match="outside segment"):
            holdings.read(segment, 90, 11)
        with pytest.raises(HoldingError, match="outside segment"):
            holdings.read(segment, -1, 1)
    finally:
        assert holdings.release_all() == []
    assert len(holdings) == 0 and sysv.shm_stat(segment).nattch == 0


def test_attached_releases_even_when_the_block_raises(segment):
    with pytest.raises(RuntimeError), attached(segment, readonly=False) as (holdings, _):
        holdings.write(segment, 0, b"kept")
        assert sysv.shm_stat(segment).nattch == 1
        raise RuntimeError("boom")
    assert sysv.shm_stat(segment).nattch == 0
    with attached(segment, readonly=True) as (holdings, _):
        assert holdings.read(segment, 0, 4) == b"kept"


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from ipctop.actions.holdings import Holdings
    from ipctop.kernel import sysv

    shmid, how = int(sys.argv[1]), sys.argv[2]
    holdings = Holdings()

    def report(signum, frame):
        print(f"then nattch={sysv.shm_stat(shmid).nattch} held={len(holdings)}", flush=True)
        os._exit(0)

    if how == "handler":
        signal.signal(signal.SIGHUP, report)
    elif how == "ignored":
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    holdings.attach(shmid)
    print("attached", flush=True)
    while True:
        signal.pause()
    """
)


def _child(shmid: int, how: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(shmid), how], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "attached"
    assert sysv.shm_stat(shmid).nattch == 1
    return child


def test_a_signal_releases_first_then_runs_the_previous_handler(segment):
    child = _child(segment, "handler")
    try:
        child.send_signal(signal.SIGHUP)
        assert child.stdout.readline().strip() == "then nattch=0 held=0"
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)


def test_a_signal_with_the_default_action_still_ends_the_process_by_that_signal(segment):
    child = _child(segment, "default")
    try:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=10) == -signal.SIGTERM
        assert sysv.shm_stat(segment).nattch == 0
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)


def test_an_ignored_signal_stays_ignored(segment):
    child = _child(segment, "ignored")
    try:
        child.send_signal(signal.SIGHUP)
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=0.3)
        assert sysv.shm_stat(segment).nattch == 1
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=10) == -signal.SIGTERM
        wait_until(lambda: sysv.shm_stat(segment).nattch == 0)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)
