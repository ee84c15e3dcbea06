"""Edge cases of reading /proc/PID/syscall and what it points at, and the call numbers against the kernel headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ipctop.collectors import syscalls
from ipctop.collectors.procfs import ProcFS

X86_64 = syscalls.call_names("x86_64")
HEADERS = {
    "x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    "aarch64": Path("/usr/include/asm-generic/unistd.h"),
}


def test_only_a_sleeping_task_in_a_call_of_interest_is_a_call():
    assert X86_64 is not None
    line = b"70 0x4 0x7ffd5a0e1000 0x2000 0x63 0x0 0x0 0x7ffd5a0e0f88 0x7f3c1a2b3c4d\n"
    assert syscalls.parse_syscall_line(line, X86_64) == ("msgrcv", (4, 0x7FFD5A0E1000, 0x2000, 0x63, 0, 0))
    assert syscalls.parse_syscall_line(b"running\n", X86_64) is None
    assert syscalls.parse_syscall_line(b"-1 0x7ffd5a0e0f88 0x7f3c1a2b3c4d\n", X86_64) is None  # stopped outside a call
    nanosleep = b"230 0x0 0x0 0x7ffc 0x7ffd 0x0 0x0 0x7ffc 0x7f3c\n"
    assert syscalls.parse_syscall_line(nanosleep, X86_64) is None
    # a kernel thread reads as system call 0 (read on x86_64) with no user stack or program counter
    assert syscalls.parse_syscall_line(b"0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0x0\n", X86_64) is None


def test_an_unknown_machine_has_no_numbers():
    assert syscalls.call_names("sparc64") is None


@pytest.mark.parametrize("machine", sorted(HEADERS))
def test_the_numbers_are_the_kernel_headers(machine):
    header = HEADERS[machine]
    if not header.exists():
        pytest.skip(f"{header} is not installed")
    defined = {name: int(number) for name, number in re.findall(r"#define __NR_(\w+)\s+(\d+)\b", header.read_text())}
    for number, name in syscalls.CALLS_BY_NUMBER[machine].items():
        assert defined.get(name) == number, f"{machine} {name}"


def test_fd_sets_read_as_the_fds_set():
    words = (1 << 3 | 1 << 63).to_bytes(8, "little") + (1 << 1).to_bytes(8, "little")
    assert syscalls._set_bits(words, 128) == (3, 63, 65)
    assert syscalls._set_bits(words, 64) == (3, 63)  # bits past nfds are not fds it waits on


def test_epoll_watched_files_come_from_the_tfd_lines(tmp_path):
    fdinfo = tmp_path / "42" / "fdinfo"
    fdinfo.mkdir(parents=True)
    (fdinfo / "7").write_text(
        "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n"
        "tfd:        3 events:       19 data:                3  pos:0 ino:3f2a sdev:e\n"
        "tfd:        5 events:        4 data:                5  pos:0 ino:3f2b sdev:e\n"
    )
    assert syscalls._epoll_targets(ProcFS(str(tmp_path)), 42, 7) == ((3, 0x3F2A, 0x19), (5, 0x3F2B, 0x4))
    assert syscalls._epoll_targets(ProcFS(str(tmp_path)), 42, 8) == ()  # closed meanwhile
