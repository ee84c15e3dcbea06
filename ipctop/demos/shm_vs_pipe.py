"""The shm-vs-pipe demo: the same bytes moved to a child and back, through two pipes and through shared
memory, with the throughput of each measured.  See catalog.py for the lesson.

Through the pipes every chunk is copied four times: write() into the kernel,
read() out to the child, write() back in, read() out to the parent.  Through
shared memory, twice: memcpy into the shared buffer, and memcpy out of it once
the child has had it in place (two named semaphores take turns).
"""

from __future__ import annotations

import ctypes
import os
import time

from ipctop.demos import ccalls
from ipctop.demos.context import ChildContext, DemoContext
from ipctop.demos.syscalls import mmap_shared, munmap
from ipctop.kernel import posix

CHUNK = 64 * 1024
TOTAL = 64 * 1024 * 1024  # at speed 1; a faster demo moves less


def _total(ctx: DemoContext) -> int:
    return max(CHUNK * 16, int(TOTAL / max(ctx.speed, 1.0)) // CHUNK * CHUNK)


def _read_exactly(fd: int, view: memoryview) -> None:
    got = 0
    while got < len(view):
        count = os.readv(fd, [view[got:]])
        if count == 0:
            raise EOFError("the other end closed")
        got += count


def shm_vs_pipe(ctx: DemoContext) -> None:
    total = _total(ctx)
    source = bytearray(os.urandom(CHUNK))
    back = bytearray(CHUNK)

    ctx.step("pipes", f"Two pipes: {total >> 20} MiB go to a child and come back, {CHUNK >> 10} KiB at a time")
    to_child, from_parent = ctx.pipe()[::-1]
    from_child, to_parent = ctx.pipe()

    def echo_body(child: ChildContext) -> None:
        os.close(to_child)
        os.close(from_child)
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        for _ in range(total // CHUNK):
            _read_exactly(from_parent, view)
            os.write(to_parent, view)
        child.call(f"{total // CHUNK} × {{ read({from_parent}, buf, {CHUNK}); write({to_parent}, buf, {CHUNK}); }}")
        child.call("exit(0)")

    echo = ctx.fork("echo", echo_body)
    os.close(from_parent)
    os.close(to_parent)
    view = memoryview(back)
    started = time.perf_counter()
    for _ in range(total // CHUNK):
        os.write(to_child, source)
        _read_exactly(from_child, view)
    pipe_seconds = time.perf_counter() - started
    ctx.call(f"{total // CHUNK} × {{ write({to_child}, buf, {CHUNK}); read({from_child}, buf, {CHUNK}); }}")
    ctx.reap_and_tell(echo)
    os.close(to_child)
    os.close(from_child)
    pipe_rate = 2 * total / pipe_seconds / 1e6
    ctx.note(f"4 copies of every byte (write, read, write, read): {pipe_rate:.0f} MB/s both ways")
    ctx.result("pipe_mb_s", round(pipe_rate, 1))

    ctx.step("shared", "Shared memory and two named semaphores taking turns: the same bytes, both ways")
    fd, name = ctx.create_posix(
        "pshm", lambda n: posix.shm_open(n, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600),
        lambda n: f"shm_open({ccalls.cstr(n.encode(), 64)}, O_CREAT|O_EXCL|O_RDWR, 0600)")
    os.ftruncate(fd, CHUNK)
    shared = mmap_shared(fd, CHUNK)
    os.close(fd)
    ctx.call(f"ftruncate({fd}, {CHUNK}); mmap(NULL, {CHUNK}, PROT_READ|PROT_WRITE, MAP_SHARED, {fd}, 0); "
             f"close({fd})", ccalls.pointer(shared))
    full, full_name = ctx.create_posix(
        "psem", lambda n: posix.sem_open(n, os.O_CREAT | os.O_EXCL, 0o600, 0),
        lambda n: f"sem_open({ccalls.cstr(n.encode(), 64)}, O_CREAT|O_EXCL, 0600, 0)", ccalls.pointer)
    empty, empty_name = ctx.create_posix(
        "psem", lambda n: posix.sem_open(n, os.O_CREAT | os.O_EXCL, 0o600, 0),
        lambda n: f"sem_open({ccalls.cstr(n.encode(), 64)}, O_CREAT|O_EXCL, 0600, 0)", ccalls.pointer)

    def turn_body(child: ChildContext) -> None:
        for _ in range(total // CHUNK):
            posix.sem_wait(full)
            # the child has the chunk in place: no copy; it gives the buffer back
            posix.sem_post(empty)
        child.call(f"{total // CHUNK} × {{ sem_wait(full); /* the bytes are here, in place */ sem_post(empty); }}")
        child.call("exit(0)")

    turner = ctx.fork("echo", turn_body)
    source_buffer = (ctypes.c_char * CHUNK).from_buffer(source)
    back_buffer = (ctypes.c_char * CHUNK).from_buffer(back)
    started = time.perf_counter()
    for _ in range(total // CHUNK):
        ctypes.memmove(shared, source_buffer, CHUNK)
        posix.sem_post(full)
        posix.sem_wait(empty)
        ctypes.memmove(back_buffer, shared, CHUNK)
    shm_seconds = time.perf_counter() - started
    ctx.call(f"{total // CHUNK} × {{ memcpy(shm, buf, {CHUNK}); sem_post(full); sem_wait(empty); "
             f"memcpy(buf, shm, {CHUNK}); }}")
    ctx.reap_and_tell(turner)
    shm_rate = 2 * total / shm_seconds / 1e6
    ctx.note(f"2 copies of every byte (into the shared buffer and out): {shm_rate:.0f} MB/s both ways")
    ctx.result("shm_mb_s", round(shm_rate, 1))
    ctx.result("same_bytes", bytes(back) == bytes(source))

    ctx.step("compare", "What the copies cost")
    ctx.note(f"pipes {pipe_rate:.0f} MB/s, shared memory {shm_rate:.0f} MB/s: {shm_rate / pipe_rate:.1f} times "
             "as fast here")
    ctx.note("the price of shared memory: the processes must take turns themselves (here with semaphores), "
             "where a pipe's read() simply waits for data")
    del source_buffer, back_buffer
    munmap(shared, CHUNK)
    for address, sem_name in ((full, full_name), (empty, empty_name)):
        posix.sem_close(address)
        ctx.unlink_posix("psem", sem_name)
    ctx.unlink_posix("pshm", name)
