"""The POSIX shared memory demos: posix-shm (shm_open, and shm_unlink while mapped) and memfd
(memory with no name at all, passed to a child over a socket).  See catalog.py for the lessons."""

from __future__ import annotations

import ctypes
import os
import socket

from ipctop.demos import ccalls
from ipctop.demos.context import ChildContext, DemoContext, Narrator
from ipctop.demos.syscalls import mmap_shared, munmap
from ipctop.kernel import posix

SIZE = 4096
MAP_CALL = "mmap(NULL, {size}, {prot}, MAP_SHARED, {fd}, 0)"


def map_fd(who: Narrator, fd: int, size: int, writable: bool = True) -> int:
    address = mmap_shared(fd, size, writable)
    prot = "PROT_READ|PROT_WRITE" if writable else "PROT_READ"
    who.call(MAP_CALL.format(size=size, prot=prot, fd=fd), ccalls.pointer(address))
    return address


def put_text(who: Narrator, address: int, text: str) -> None:
    data = text.encode() + b"\0"
    ctypes.memmove(address, data, len(data))
    who.call(f"strcpy({ccalls.pointer(address)}, {ccalls.cstr(text.encode())})")


def get_text(address: int) -> str:
    return ctypes.string_at(address, SIZE).split(b"\0", 1)[0].decode(errors="replace")


def unmap(who: Narrator, address: int, size: int) -> None:
    munmap(address, size)
    who.call(f"munmap({ccalls.pointer(address)}, {size})", 0)


def posix_shm(ctx: DemoContext) -> None:
    ctx.step("open", "The writer makes a shared memory object: shm_open, ftruncate, mmap")
    flags = os.O_CREAT | os.O_EXCL | os.O_RDWR
    fd, name = ctx.create_posix(
        "pshm", lambda n: posix.shm_open(n, flags, 0o600),
        lambda n: f"shm_open({ccalls.cstr(n.encode(), 64)}, O_CREAT|O_EXCL|O_RDWR, 0600)")
    os.ftruncate(fd, SIZE)
    ctx.call(f"ftruncate({fd}, {SIZE})", 0)
    area = map_fd(ctx, fd, SIZE)
    ctx.close(fd)
    ctx.note(f"it is the file /dev/shm{name}; the mapping stays after close(): holders are fds and mappings")

    def reader_body(child: ChildContext) -> None:
        child.wait_poke()
        found = posix.shm_open(name, os.O_RDONLY)
        child.call(f"shm_open({ccalls.cstr(name.encode(), 64)}, O_RDONLY, 0)", found)
        mine = map_fd(child, found, SIZE, writable=False)
        child.close(found)
        child.ack()
        child.wait_poke()
        child.call(f'printf("%s", {ccalls.pointer(mine)})', ccalls.cstr(get_text(mine).encode()))
        child.ack()
        child.wait_poke()
        unmap(child, mine, SIZE)
        child.call("exit(0)")

    ctx.step("reader", "A reader opens the same name and maps it read-only")
    reader = ctx.fork("reader", reader_body)
    ctx.poke(reader)
    ctx.wait_ack(reader)
    ctx.note("look: two processes map one object (ipctop: held by writer and reader, rw and r)")

    ctx.step("exchange", "The writer writes; the reader sees it without a system call")
    put_text(ctx, area, "written by the writer")
    ctx.poke(reader)
    ctx.wait_ack(reader)

    ctx.step("unlink", "shm_unlink while both map it: the name goes, the memory stays")
    ctx.unlink_posix("pshm", name)
    ctx.result("exists_after_unlink", os.path.exists(posix.shm_path(name)))
    ctx.note(f"/dev/shm{name} is gone (ls /dev/shm), but both still read and write the memory: ipctop lists it "
             "as unlinked, still held by two processes")
    ctx.note("System V's IPC_RMID on an attached segment is the same idea: 'dest', gone at the last detach")

    ctx.step("reader-exit", "The reader unmaps and exits: the writer alone holds the memory")
    ctx.poke(reader)
    ctx.reap_and_tell(reader)
    put_text(ctx, area, "still here after shm_unlink")

    ctx.step("last-munmap", "The writer's munmap is the last: now the memory is freed")
    unmap(ctx, area, SIZE)
    ctx.note("nobody holds it: the kernel frees it, and it leaves ipctop's list")


def memfd(ctx: DemoContext) -> None:
    ctx.step("channel", "The parent forks a child it can pass fds to: a Unix socket pair")
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    ctx.call("socketpair(AF_UNIX, SOCK_STREAM, 0, sv)", f"0; sv = [{parent_end.fileno()}, {child_end.fileno()}]")

    def child_body(child: ChildContext) -> None:
        parent_end.close()
        child.wait_poke()
        _, fds, _, _ = socket.recv_fds(child_end, 16, 1)
        child.call(f"recvmsg({child_end.fileno()}, {{SCM_RIGHTS}}, 0)", f"1; fd {fds[0]}")
        shared = map_fd(child, fds[0], SIZE)
        child.call(f'printf("%s", {ccalls.pointer(shared)})', ccalls.cstr(get_text(shared).encode()))
        put_text(child, shared, "and the child answers in it")
        child.ack()
        child.wait_poke()
        child.note("the child still holds the fd and its mapping: the memory lives on")
        child.ack()
        child.wait_poke()
        child.call("exit(0)")

    receiver = ctx.fork("child", child_body)
    child_end.close()

    ctx.step("create", "memfd_create: memory with a name only for show, in no directory")
    fd = os.memfd_create("ipctop-demo")
    ctx.call('memfd_create("ipctop-demo", 0)', fd)
    os.ftruncate(fd, SIZE)
    ctx.call(f"ftruncate({fd}, {SIZE})", 0)
    area = map_fd(ctx, fd, SIZE)
    put_text(ctx, area, "written before the fd was passed")
    ctx.note(f"/proc/{ctx.pid}/fd/{fd} reads /memfd:ipctop-demo (deleted): no file in /dev/shm, no name to open")

    ctx.step("pass", "The fd goes to the child over the socket (SCM_RIGHTS); it maps the same memory")
    socket.send_fds(parent_end, [b"x"], [fd])
    ctx.call(f"sendmsg({parent_end.fileno()}, {{SCM_RIGHTS: {fd}}}, 0)", 1)
    ctx.poke(receiver)
    ctx.wait_ack(receiver)
    ctx.call(f'printf("%s", {ccalls.pointer(area)})', ccalls.cstr(get_text(area).encode()))
    ctx.note("look: one object (one inode) held by two processes, each with an fd and a mapping")

    ctx.step("close", "The parent closes and unmaps its side: the child's hold keeps it alive")
    unmap(ctx, area, SIZE)
    ctx.close(fd)
    ctx.poke(receiver)
    ctx.wait_ack(receiver)

    ctx.step("exit", "The child exits: its fd and mapping go, and with them the memory")
    ctx.poke(receiver)
    ctx.reap_and_tell(receiver)
    parent_end.close()
    ctx.note("with no name, nothing can leak: it lives exactly as long as its last holder")
