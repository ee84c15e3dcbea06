"""Validators: what each accepts, the sentence each refusal gives, and that arbitrary text
never gets anything but a typed value or one ValidationError."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipctop.actions import validators as v
from ipctop.actions.hexdump import hexdump
from ipctop.actions.validators import ValidationError
from ipctop.kernel import sysv
from ipctop.model import Limits

LIMITS = Limits(shmmax=1 << 20, shmall=1 << 20, shmmni=4096, msgmax=8192, msgmnb=16384, msgmni=32000,
                semmsl=250, semmns=32000, semopm=500, semmni=32000, pipe_max_size=1 << 20)


def refusal(function, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        function(*args, **kwargs)
    return str(caught.value)


def test_keys():
    assert v.parse_key("0x4950aBcD") == 0x4950ABCD
    assert v.parse_key(" 1234 ") == 1234
    assert v.parse_key("0xffffffff") == 0xFFFFFFFF
    assert refusal(v.parse_key, "0x100000000") == "key: '0x100000000' does not fit in 32 bits (0x1..0xffffffff)"
    assert refusal(v.parse_key, "-1", field="--key") == "--key: '-1' does not fit in 32 bits (0x1..0xffffffff)"
    assert refusal(v.parse_key, "0") == "key: 0 is IPC_PRIVATE, not a key; ask for a private object instead"
    assert refusal(v.parse_key, "12ab") == "key: '12ab' is not a key in hex (0x1234) or decimal"
    assert refusal(v.parse_key, "٣") == "key: '٣' is not a key in hex (0x1234) or decimal"  # ASCII digits only


def test_ftok_matches_libc(tmp_path):
    import ctypes

    libc = ctypes.CDLL(None)
    libc.ftok.argtypes = [ctypes.c_char_p, ctypes.c_int]
    for path, project in [(str(tmp_path), "1"), ("/", "A"), ("/proc/self", "255")]:
        expected = libc.ftok(path.encode(), int(project) if project.isdigit() else ord(project)) & 0xFFFFFFFF
        assert v.parse_ftok(path, project) == expected
    assert refusal(v.parse_ftok, "/", "0") == "ftok project id: '0' is outside 1..255, the range of ftok project ids"
    assert refusal(v.parse_ftok, "", "1") == "ftok path: the path is empty"
    assert refusal(v.parse_ftok, "a\0b", "1") == "ftok path: 'a\\x00b' cannot be used: it cannot be used"


def test_sizes_modes_offsets():
    assert v.parse_size("4096", LIMITS) == 4096
    assert v.parse_size("64K", LIMITS) == 65536 and v.parse_size("1m", LIMITS) == 1 << 20
    assert v.parse_size("0x10", LIMITS) == 16
    assert refusal(v.parse_size, "0", LIMITS) == "size: a segment must be at least 1 byte (SHMMIN)"
    assert refusal(v.parse_size, "2M", LIMITS) == "size: '2M' is larger than shmmax (1048576 bytes)"
    assert refusal(v.parse_size, "-5", LIMITS).startswith("size: '-5' is not a size in bytes")
    assert [v.parse_mode(t) for t in ("600", "0600", "0o644", "7", "0777")] == [0o600, 0o600, 0o644, 0o7, 0o777]
    assert refusal(v.parse_mode, "1777") == "mode: '1777' is above 0777; only the nine permission bits can be set"
    assert refusal(v.parse_mode, "rw-") == "mode: 'rw-' is not an octal mode such as 600 or 0640"
    assert v.parse_offset("15", 16) == 15
    assert refusal(v.parse_offset, "16", 16) == (
        "offset: '16' is outside 0..15, the range of offsets in a 16-byte segment"
    )
    assert refusal(v.check_fits, 10, 7, 16) == (
        "text: 7 bytes at offset 10 would run past the end of the 16-byte segment"
    )


def test_messages_and_types():
    assert v.parse_send_type("7") == 7
    assert refusal(v.parse_send_type, "-1") == "type: '-1' is not above 0; a message's type must be positive"
    assert refusal(v.parse_send_type, str(2**63)).startswith("type: '9223372036854775808' is outside 1..")
    assert [v.parse_receive_type(t) for t in ("0", "-3", "3")] == [0, -3, 3]
    assert v.parse_message("é", LIMITS) == "é".encode()
    assert refusal(v.parse_message, "x" * 8193, LIMITS) == "text: the message is 8193 bytes, more than msgmax (8192)"
    assert v.encode_text("\udcff") == b"\xff"  # a command line's undecodable byte goes back as it was
    assert refusal(v.encode_text, "\ud800") == "text: the text contains characters that cannot be encoded as UTF-8"


def test_semaphores():
    assert v.parse_sem_values("1, 0,32767", LIMITS) == [1, 0, 32767]
    assert refusal(v.parse_sem_values, ",".join(["0"] * 251), LIMITS) == (
        "values: 251 values is more than semmsl (250) semaphores in a set"
    )
    assert v.parse_sem_index("1", 2) == 1
    assert refusal(v.parse_sem_index, "2", 2) == "index: '2' is outside 0..1, the range of indexes in a set of 2"
    assert v.parse_sem_delta("-32767") == -32767 and v.parse_sem_delta("+3") == 3
    assert refusal(v.parse_sem_delta, "32768").startswith("delta: '32768' is outside -32767..32767")
    assert v.parse_nsems("250", LIMITS) == 250
    assert refusal(v.parse_nsems, "0", LIMITS).startswith("semaphores: '0' is outside 1..250")


def test_signals_pids_owners():
    assert v.parse_signal("TERM") == v.parse_signal("sigterm") == v.parse_signal("15") == signal.SIGTERM
    assert v.parse_signal("rtmin") == signal.SIGRTMIN
    assert refusal(v.parse_signal, "SIG_IGN").startswith("signal: 'SIG_IGN' is not a signal name")
    assert v.parse_pid(str(os.getpid())) == os.getpid()
    assert refusal(v.parse_pid, "0x10") == "pid: '0x10' is not a process id"
    assert v.parse_owner("root:0") == v.Owner(0, 0)
    assert v.parse_owner("65534") == v.Owner(65534, None) and v.parse_owner(":root") == v.Owner(None, 0)
    assert refusal(v.parse_owner, ":") == "owner: give USER, USER:GROUP or :GROUP"
    assert refusal(v.parse_owner, "4294967295") == (
        "owner: '4294967295' is outside 0..4294967294, the range of user ids"
    )


def test_ids_must_exist(ipc_key):
    semid = sysv.semget(ipc_key(), 3, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        assert v.parse_id(f" {semid}", "sem") == semid and v.set_size(semid) == 3
        assert refusal(v.parse_id, "0x1", "shm") == "id: '0x1' is not a segment id (a whole number)"
        assert refusal(v.parse_id, "2147483648", "shm").startswith("id: '2147483648' is outside 0..2147483647")
    finally:
        sysv.sem_remove(semid)
    assert refusal(v.parse_id, str(semid), "sem", field="ID") == f"ID: no semaphore set has id {semid}"


@pytest.mark.skipif(shutil.which("xxd") is None, reason="xxd is not installed")
@given(data=st.binary(max_size=70))
@settings(max_examples=40, deadline=None)
def test_hexdump_is_the_same_as_xxd(data):
    expected = subprocess.run(["xxd"], input=data, capture_output=True, check=True).stdout.decode()
    assert hexdump(data) + ("\n" if data else "") == expected


TEXT = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[ +-]?(0[xXoO]?)?[0-9a-fA-F]{0,25}[kKmMgG]?\Z"),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet=":,0123456789abcdefx-+ \x00", max_size=20),
)

VALIDATORS = [
    lambda t: v.parse_key(t),
    lambda t: v.parse_project_id(t),
    lambda t: v.parse_ftok(t, t),
    lambda t: v.parse_size(t, LIMITS),
    lambda t: v.parse_mode(t),
    lambda t: v.parse_offset(t, 100),
    lambda t: v.parse_length(t, 100),
    lambda t: v.encode_text(t),
    lambda t: v.parse_send_type(t),
    lambda t: v.parse_receive_type(t),
    lambda t: v.parse_message(t, LIMITS),
    lambda t: v.parse_sem_value(t),
    lambda t: v.parse_sem_values(t, LIMITS),
    lambda t: v.parse_nsems(t, LIMITS),
    lambda t: v.parse_sem_index(t, 5),
    lambda t: v.parse_sem_delta(t),
    lambda t: v.parse_signal(t),
    lambda t: v.parse_pid(t),
    lambda t: v.parse_owner(t),
    lambda t: v.parse_id(t, "shm"),
    lambda t: v.parse_id(t, "msg"),
    lambda t: v.parse_id(t, "sem"),
]


@given(text=TEXT, which=st.sampled_from(range(len(VALIDATORS))))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_text_gets_a_typed_value_or_one_sentence(text, which):
    try:
        value = VALIDATORS[which](text)
    except ValidationError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(f"{error.field}: ") and error.problem
        return
    assert isinstance(value, int | bytes | list | v.Owner)
