"""The System V shared memory demos: shm, shm-perms, shm-dest, shm-leak, shm-fork.
See catalog.py for the lessons."""

from __future__ import annotations

import ctypes
import errno
import os
import pwd
import shutil
import signal
import sys

from ipctop.demos import ccalls
from ipctop.demos.context import ChildContext, DemoContext, DemoFailure, Narrator
from ipctop.demos.syscalls import ftok
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError

SIZE = 4096
SHM_DEST = 0o1000


def attach(who: Narrator, shmid: int) -> int:
    return who.around(f"shmat({shmid}, NULL, 0)", lambda: sysv.shmat(shmid), ccalls.pointer)


def detach(who: Narrator, address: int) -> None:
    who.around(f"shmdt({ccalls.pointer(address)})", lambda: sysv.shmdt(address), lambda _none: 0)


def print_text(who: Narrator, address: int) -> str:
    """printf("%s\n", p) of the string at `address`: told with what it returns, the count of bytes
    printed, and what it printed."""
    text = get_text(address)
    printed = text.encode() + b"\n"
    who.call(f'printf("%s\\n", (char *) {ccalls.pointer(address)})', f"{len(printed)}   // prints {text}")
    return text


def put_text(who: Narrator, address: int, text: str) -> None:
    data = text.encode() + b"\0"
    ctypes.memmove(address, data, len(data))
    who.call(f"strcpy({ccalls.pointer(address)}, {ccalls.cstr(text.encode())})")


def get_text(address: int) -> str:
    return ctypes.string_at(address, SIZE).split(b"\0", 1)[0].decode(errors="replace")


def tell_nattch(who: Narrator, shmid: int) -> int:
    """IPC_STAT, told: the number of attachments."""
    stat = sysv.shm_stat(shmid)
    who.call(f"shmctl({shmid}, IPC_STAT, &ds)", f"0; shm_nattch = {stat.nattch}")
    return stat.nattch


def tell_gone(who: Narrator, shmid: int) -> None:
    """IPC_STAT on a segment that no longer exists, told: EINVAL."""
    try:
        sysv.shm_stat(shmid)
    except IpcError as error:
        who.call(f"shmctl({shmid}, IPC_STAT, &ds)", ccalls.failure(error.errno))
    else:
        who.note(f"segment {shmid} still exists")


def shm(ctx: DemoContext) -> None:
    ctx.step("create", "The server makes a key from a file with ftok and creates a segment")
    directory = ctx.make_temp_dir()
    keyfile = os.path.join(directory, "shm.key")
    ctx.track_path(keyfile)
    os.close(os.open(keyfile, os.O_CREAT | os.O_WRONLY, 0o644))
    ctx.call(f"creat({ccalls.cstr(keyfile.encode(), 64)}, 0644)", "3; close(3) = 0")
    ctx.note("IPC_CREAT|IPC_EXCL fails with EEXIST if the key is taken: the server never takes over "
             "another program's segment by mistake")
    for project in range(ord("A"), ord("Z") + 1):
        key = ftok(keyfile, project)
        ctx.call(f"ftok({ccalls.cstr(keyfile.encode(), 64)}, '{chr(project)}')", ccalls.key(key))
        try:
            shmid, _ = ctx.create_shm(SIZE, 0o666, key=key)
            break
        except IpcError as error:
            if error.errno != errno.EEXIST:
                raise
            ctx.note("that key is taken: try the next project id")
    else:
        raise DemoFailure("every ftok key of the demo's file is taken")
    nattch = [tell_nattch(ctx, shmid)]

    def client_body(child: ChildContext) -> None:
        child.wait_poke()
        child.call(f"ftok({ccalls.cstr(keyfile.encode(), 64)}, '{chr(project)}')", ccalls.key(ftok(keyfile, project)))
        found = sysv.shmget(key, 0, 0)
        child.call(f"shmget({ccalls.key(key)}, 0, 0)", found)
        address = attach(child, found)
        child.ack()
        child.wait_poke()
        text = ""
        for letter in "ABCDE":
            child.pause(1.0 if text else 0.5)
            text += letter
            put_text(child, address, text)
        child.ack()
        child.wait_poke()
        detach(child, address)
        child.call("exit(0)")

    client = ctx.fork("client", client_body)
    ctx.note(f"look: segment {shmid} with key {ccalls.key(key)}, mode 666, nattch 0 (ipcs -m, or ipctop)")

    ctx.step("server-attach", "The server attaches the segment: nattch 1")
    server_address = attach(ctx, shmid)
    nattch.append(tell_nattch(ctx, shmid))

    ctx.step("client-attach", "The client finds the segment by the same ftok key and attaches: nattch 2")
    ctx.poke(client)
    ctx.wait_ack(client)
    nattch.append(tell_nattch(ctx, shmid))
    ctx.note(f"look: the attachers of segment {shmid} are {ctx.pid} and {client}; each maps it in its own "
             "address space: the numbers are equal only because the client is a fork of the server, with the "
             "same layout")

    ctx.step("exchange", "The client writes A, AB, ABC…; the server reads the segment once a second")
    ctx.poke(client)
    for _ in range(5):
        ctx.pause(1.0)
        print_text(ctx, server_address)
    ctx.wait_ack(client)
    tell_nattch(ctx, shmid)
    ctx.note("no system call moves the data: both processes read and write the same memory")

    ctx.step("client-detach", "The client detaches and exits: nattch 1")
    ctx.poke(client)
    ctx.reap_and_tell(client)
    nattch.append(tell_nattch(ctx, shmid))

    ctx.step("server-detach", "The server detaches: nattch 0, the segment stays")
    detach(ctx, server_address)
    nattch.append(tell_nattch(ctx, shmid))

    ctx.step("remove", "The server removes the segment with IPC_RMID")
    ctx.remove("shm", shmid)
    tell_gone(ctx, shmid)
    ctx.result("nattch", ",".join(map(str, nattch)))
    ctx.note(f"nattch went {' → '.join(map(str, nattch))}; the segment is gone from ipcs -m")


def become_unprivileged(child: ChildContext) -> None:
    """As root the kernel skips the mode check (CAP_IPC_OWNER): the client must be an ordinary user."""
    if os.geteuid() != 0:
        return
    try:
        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, nobody.pw_gid
    except KeyError:
        uid = gid = 65534
    # Only the effective ids change: that is what the kernel checks the mode against, and the real
    # uid 0 still lets the client signal its (root) parent.
    os.setegid(gid)
    os.seteuid(uid)
    child.call(f"seteuid({uid})", 0)
    child.note("as root the kernel would skip the mode check (CAP_IPC_OWNER): this client acts as nobody")


def shm_perms(ctx: DemoContext) -> None:
    ctx.step("create-0", "The classic first bug: shmget with IPC_CREAT but no mode bits")
    shmid, _ = ctx.create_shm(SIZE, 0)
    stat = sysv.shm_stat(shmid)
    ctx.call(f"shmctl({shmid}, IPC_STAT, &ds)", f"0; shm_perm.mode = {stat.mode & 0o777:04o}")
    ctx.note("mode 000: nobody may read or write it, not even its creator")

    def client_body(child: ChildContext, target: int) -> int:
        become_unprivileged(child)
        child.ack()
        child.wait_poke()
        try:
            address = attach(child, target)
        except IpcError as error:
            child.call(f"shmat({target}, NULL, 0)", ccalls.failure(error.errno))
            child.result("attach_errno", error.errno)
            child.ack()
            return 1
        child.ack()
        child.wait_poke()
        detach(child, address)
        return 0

    client = ctx.fork("client", lambda child: client_body(child, shmid))
    ctx.wait_ack(client)

    ctx.step("attach-fails", "A client tries to attach: EACCES")
    ctx.poke(client)
    ctx.wait_ack(client)
    ctx.reap_and_tell(client)

    ctx.step("remove", "Remove the segment")
    ctx.remove("shm", shmid)

    ctx.step("create-666", "Create it again, this time with mode 0666")
    shmid, _ = ctx.create_shm(SIZE, 0o666)
    client = ctx.fork("client", lambda child: client_body(child, shmid))
    ctx.wait_ack(client)

    ctx.step("attach-works", "The same client attaches: it works")
    ctx.poke(client)
    ctx.wait_ack(client)
    ctx.result("attached_nattch", tell_nattch(ctx, shmid))

    ctx.step("detach", "The client detaches and exits; the segment is removed")
    ctx.poke(client)
    ctx.reap_and_tell(client)
    ctx.remove("shm", shmid)


def _sysvipc_line(shmid: int) -> dict[str, int] | None:
    with open("/proc/sysvipc/shm") as f:
        header, *lines = f.read().splitlines()
    names = header.split()
    for line in lines:
        values = line.split()
        if values and int(values[1]) == shmid:
            fields = {name: int(value) for name, value in zip(names, values, strict=False)}
            fields["perms"] = int(values[names.index("perms")], 8)
            return fields
    return None


def shm_dest(ctx: DemoContext) -> None:
    ctx.step("create", "The owner creates a segment")
    shmid, key = ctx.create_shm(SIZE, 0o600)

    def user_body(child: ChildContext) -> None:
        child.wait_poke()
        address = attach(child, shmid)
        child.ack()
        child.wait_poke()
        detach(child, address)
        child.ack()
        child.wait_poke()
        child.call("exit(0)")

    user = ctx.fork("user", user_body)

    ctx.step("attach", "The owner and a second process attach: nattch 2")
    address = attach(ctx, shmid)
    ctx.poke(user)
    ctx.wait_ack(user)
    tell_nattch(ctx, shmid)

    ctx.step("rmid", "The owner removes it with IPC_RMID while both are attached")
    ctx.remove("shm", shmid)
    stat = sysv.shm_stat(shmid)
    ctx.call(f"shmctl({shmid}, IPC_STAT, &ds)", f"0; key {ccalls.key(stat.key)}, shm_perm.mode {stat.mode:04o}, "
             f"shm_nattch {stat.nattch}")
    line = _sysvipc_line(shmid) or {}
    ctx.result("dest_key", line.get("key", -1))
    ctx.result("dest_perms", f"{line.get('perms', 0):o}")
    ctx.note(f"the segment stays: /proc/sysvipc/shm reads key {line.get('key')} and perms "
             f"{line.get('perms', 0):o} (SHM_DEST is {SHM_DEST:o}); ipcs -m shows key 0x00000000, status dest")
    try:
        sysv.shmget(key, 0, 0)
        ctx.note("unexpected: the old key still finds it")
    except IpcError as error:
        ctx.call(f"shmget({ccalls.key(key)}, 0, 0)", ccalls.failure(error.errno))
        ctx.note("its key reads 0 now: a new shmget cannot find it")

    ctx.step("owner-detach", "The owner detaches: nattch 1, the segment still exists")
    detach(ctx, address)
    tell_nattch(ctx, shmid)

    ctx.step("last-detach", "The last process detaches: the kernel destroys the segment")
    ctx.poke(user)
    ctx.wait_ack(user)
    ctx.wait_until(lambda: _sysvipc_line(shmid) is None, f"segment {shmid} vanishing")
    tell_gone(ctx, shmid)
    ctx.forget("shm", shmid)
    ctx.poke(user)
    ctx.reap_and_tell(user)
    ctx.note("gone from ipcs -m: destroyed at the last shmdt, not at IPC_RMID")


def shm_leak(ctx: DemoContext) -> None:
    ctx.step("make", "A process creates a segment, writes to it, and also makes a pipe")
    key = ctx.reserve_key()

    def leaker_body(child: ChildContext) -> None:
        flags = sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600
        shmid = sysv.shmget(key, SIZE, flags)
        child.call(f"shmget({ccalls.key(key)}, {SIZE}, {ccalls.ipc_flags(flags)})", shmid)
        address = attach(child, shmid)
        put_text(child, address, f"left here by process {child.pid}")
        child.pipe()
        child.ack()
        child.wait_poke()
        child.call("exit(0)")
        child.note("no shmdt, no IPC_RMID, and the pipe ends left open")

    leaker = ctx.fork("leaker", leaker_body)
    ctx.wait_ack(leaker)
    shmid = sysv.shmget(key, 0, 0)
    ctx.adopt("shm", shmid, key)
    tell_nattch(ctx, shmid)

    ctx.step("exit", "The process exits without IPC_RMID")
    ctx.poke(leaker)
    ctx.reap_and_tell(leaker)
    stat = sysv.shm_stat(shmid)
    ctx.call(f"shmctl({shmid}, IPC_STAT, &ds)", f"0; shm_nattch {stat.nattch}, shm_cpid {stat.cpid}")
    ctx.note(f"its pipe died with it (process lifetime); segment {shmid} stays with nattch 0 and a creator "
             "that no longer exists (kernel lifetime)")

    ctx.step("left", "The segment and its data outlive the process: left behind on purpose")
    address = attach(ctx, shmid)
    print_text(ctx, address)
    detach(ctx, address)
    ctx.keep("shm", shmid)
    ctx.result("leaked_shmid", shmid)
    ctx.result("leaked_key", key)
    ctx.note(f"this demo leaves segment {shmid} (key {ccalls.key(key)}) behind on purpose")
    ctx.note(f"ipctop clean lists it as leaked once idle for its grace period; remove it now with: "
             f"ipctop clean --key {ccalls.key(key)} --older-than 0s --yes   "
             f"or: ipctop shm rm {shmid}   or: ipcrm -m {shmid}")


def shm_fork(ctx: DemoContext) -> None:
    ctx.step("create", "The parent creates a segment, attaches it and writes to it: nattch 1")
    shmid, _ = ctx.create_shm(SIZE, 0o600)
    address = attach(ctx, shmid)
    put_text(ctx, address, "written by the parent")
    tell_nattch(ctx, shmid)

    def exec_body(child: ChildContext) -> None:
        print_text(child, address)
        child.note("the child reads the segment at the parent's address without calling shmat")
        child.ack()
        child.wait_poke()
        program = shutil.which("sleep")
        argv = [program, "3600"] if program else [sys.executable, "-c", "import time; time.sleep(3600)"]
        child.call(f"execv({ccalls.cstr(argv[0].encode())}, {argv})")
        os.execv(argv[0], argv)

    ctx.step("fork", "fork(): the child inherits the attachment: nattch 2")
    child = ctx.fork("child", exec_body)
    ctx.wait_ack(child)
    ctx.result("nattch_after_fork", tell_nattch(ctx, shmid))
    ctx.note(f"look: /proc/{child}/maps has /SYSV… for segment {shmid}, like the parent's")

    ctx.step("exec", "The child calls exec(): the new program has no attachment: nattch 1")
    ctx.poke(child)
    ctx.wait_until(lambda: sysv.shm_stat(shmid).nattch == 1, "the attachment dropping at exec")
    ctx.result("nattch_after_exec", tell_nattch(ctx, shmid))
    ctx.note(f"the same process {child} now runs sleep, without the segment")

    def exit_body(child: ChildContext) -> None:
        child.ack()
        child.wait_poke()
        child.call("exit(0)")

    ctx.step("fork-again", "Another fork: nattch 2 again")
    os.kill(child, signal.SIGTERM)
    ctx.call(f"kill({child}, SIGTERM)", 0)
    ctx.reap_and_tell(child)
    second = ctx.fork("child", exit_body)
    ctx.wait_ack(second)
    tell_nattch(ctx, shmid)

    ctx.step("exit", "The child exits: exit() detaches: nattch 1")
    ctx.poke(second)
    ctx.reap_and_tell(second)
    ctx.result("nattch_after_exit", tell_nattch(ctx, shmid))

    ctx.step("remove", "The parent detaches and removes the segment")
    detach(ctx, address)
    ctx.remove("shm", shmid)
