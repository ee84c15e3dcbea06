"""A tiny FUSE file system that can stop answering, for the tests of an unresponsive mount.

Run as root: `python fuse_server.py MOUNTPOINT`.  It speaks the kernel's FUSE protocol
on /dev/fuse itself (no libfuse), mounts a file system holding one regular file,
`file`, prints `ready`, and answers every request until SIGUSR1: from then on it
reads requests and never answers them, as a hung server does (whoever asks the file
system anything waits, in the kernel, for good).  On SIGTERM it aborts the
connection (everything waiting gets ENOTCONN), unmounts and exits.  It dies with its
parent.
"""

from __future__ import annotations

import ctypes
import os
import signal
import struct
import sys
import threading

from ipctop.kernel.libc import libc

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_OPEN, FUSE_READ = 1, 2, 3, 14, 15
FUSE_RELEASE, FUSE_FLUSH, FUSE_INIT, FUSE_OPENDIR, FUSE_RELEASEDIR = 18, 25, 26, 27, 29
FUSE_INTERRUPT, FUSE_BATCH_FORGET, FUSE_DESTROY = 36, 42, 38
ROOT, FILE = 1, 2
FILE_SIZE = 4096
IN_HEADER = struct.Struct("<IIQQIIII")  # len opcode unique nodeid uid gid pid padding
OUT_HEADER = struct.Struct("<IiQ")  # len error unique
PR_SET_PDEATHSIG = 1
MNT_DETACH = 2


def _attr(node: int) -> bytes:
    mode, size, nlink = (0o040755, 0, 2) if node == ROOT else (0o100644, FILE_SIZE, 1)
    # ino size blocks atime mtime ctime atimensec mtimensec ctimensec mode nlink uid gid rdev blksize flags
    return struct.pack("<QQQQQQIIIIIIIIII", node, size, 1, 0, 0, 0, 0, 0, 0, mode, nlink, 0, 0, 0, 4096, 0)


class Server:
    def __init__(self, mountpoint: str) -> None:
        self.mountpoint = mountpoint
        self.device = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
        self.answering = threading.Event()
        self.answering.set()
        options = f"fd={self.device},rootmode=40000,user_id=0,group_id=0,allow_other".encode()
        if libc().mount(b"ipctop-test-fuse", mountpoint.encode(), b"fuse", 0, options) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno), mountpoint)

    def reply(self, unique: int, payload: bytes = b"", error: int = 0) -> None:
        os.write(self.device, OUT_HEADER.pack(OUT_HEADER.size + len(payload), -error, unique) + payload)

    def serve(self) -> None:
        while True:
            try:
                request = os.read(self.device, 1 << 20)
            except OSError:
                return  # unmounted or aborted
            length, opcode, unique, node, *_ = IN_HEADER.unpack_from(request)
            body = request[IN_HEADER.size:length]
            if opcode in (FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT):
                continue  # no answer is expected
            if not self.answering.is_set():
                continue  # hung: the asker waits for good
            self.answer(opcode, unique, node, body)

    def answer(self, opcode: int, unique: int, node: int, body: bytes) -> None:
        if opcode == FUSE_INIT:
            major, minor, readahead, flags = struct.unpack_from("<IIII", body)
            # major minor max_readahead flags max_background congestion max_write time_gran max_pages
            # map_alignment flags2 unused[7]
            self.reply(unique, struct.pack("<IIIIHHIIHHI7I", 7, 31, readahead, 0, 16, 12, 65536, 1, 32, 0, 0,
                                           *([0] * 7)))
        elif opcode == FUSE_LOOKUP:
            if body.rstrip(b"\0") != b"file" or node != ROOT:
                self.reply(unique, error=2)  # ENOENT
                return
            # nodeid generation entry_valid attr_valid entry_valid_nsec attr_valid_nsec attr
            self.reply(unique, struct.pack("<QQQQII", FILE, 0, 0, 0, 0, 0) + _attr(FILE))
        elif opcode == FUSE_GETATTR:
            self.reply(unique, struct.pack("<QII", 0, 0, 0) + _attr(node))  # attributes valid for no time
        elif opcode in (FUSE_OPEN, FUSE_OPENDIR):
            self.reply(unique, struct.pack("<QII", 1, 0, 0))
        elif opcode == FUSE_READ:
            _fh, offset, size = struct.unpack_from("<QQI", body)
            self.reply(unique, bytes(max(0, min(size, FILE_SIZE - offset))))
        elif opcode in (FUSE_RELEASE, FUSE_FLUSH, FUSE_RELEASEDIR, FUSE_DESTROY):
            self.reply(unique)
        else:
            self.reply(unique, error=38)  # ENOSYS

    def close(self) -> None:
        libc().umount2(self.mountpoint.encode(), MNT_DETACH)
        os.close(self.device)  # aborts the connection: every waiter gets ENOTCONN


def main(argv: list[str]) -> None:
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    server = Server(argv[0])
    signal.signal(signal.SIGUSR1, lambda *_: server.answering.clear())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve, daemon=True).start()
    print("ready", flush=True)
    stop.wait()
    server.close()


if __name__ == "__main__":
    main(sys.argv[1:])
