"""A process's shared mappings, asked of the kernel (PROCMAP_QUERY) rather than read in the maps text.

Every IPC mapping is a shared one (the `s` of the maps permissions: System V
attachments, POSIX shared memory and named semaphores, memfds, shared anonymous
memory), while most of a process's mappings are private: an interpreter has some
200 lines of libraries, of which none matter here.  Reading /proc/PID/maps makes
the kernel format every line (a d_path per file) and ipctop search all of them.

Since Linux 6.11 an open /proc/PID/maps answers the PROCMAP_QUERY ioctl: "the
first mapping at or after this address that is shared", with its range, flags,
offset, device, inode and name (the name maps would print: `/SYSV%08x (deleted)`,
`/dev/shm/NAME`, `/memfd:NAME (deleted)`, `/dev/zero (deleted)`, `[anon_shmem:NAME]`).
Walking from address 0 gives the shared lines alone, which `shared_lines` writes in
the maps format so that one set of parsers reads both.  The access check is the
one of reading maps (made when it is opened), and like reading it the query changes
nothing.  On an older kernel the ioctl fails with ENOTTY, and where a seccomp filter
or a security module refuses it with EPERM or EACCES; the caller then reads the text
(None here).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import struct

# struct procmap_query (include/uapi/linux/fs.h): size, query_flags, query_addr, vma_start, vma_end,
# vma_flags, vma_page_size, vma_offset, inode; dev_major, dev_minor, vma_name_size, build_id_size;
# vma_name_addr, build_id_addr
_QUERY = struct.Struct("=9Q4I2Q")
PROCMAP_QUERY = (3 << 30) | (_QUERY.size << 16) | (ord("f") << 8) | 17  # _IOWR('f', 17, struct procmap_query)

_READABLE, _WRITABLE, _EXECUTABLE, _SHARED = 0x01, 0x02, 0x04, 0x08  # vma_flags, and query_flags to match
_COVERING_OR_NEXT = 0x10
_NAME_SIZE = 4096  # PATH_MAX: d_path never writes more
_ENDED = (errno.ENOENT, errno.ESRCH)  # no shared mapping at or after the address; the process has no memory left
# no such ioctl (before 6.11), a name longer than the buffer, or the call refused by a seccomp filter or
# security module (the kernel's own check was made at open): the text says the same
_READ_THE_TEXT = (errno.ENOTTY, errno.EINVAL, errno.ENAMETOOLONG, errno.EPERM, errno.EACCES)


def shared_lines(fd: int) -> bytes | None:
    """The maps lines of every shared mapping of the open /proc/PID/maps `fd`, in address order and
    in the maps format (names' newlines escaped as maps escapes them); None when this kernel has no
    PROCMAP_QUERY (read the text instead).  OSError as a read of the text would raise it."""
    # a buffer per call: a scan given up by the Scanner's watchdog may still be running in its thread
    name = ctypes.create_string_buffer(_NAME_SIZE)
    name_address = ctypes.addressof(name)
    query = bytearray(_QUERY.size)
    pack, unpack, ioctl = _QUERY.pack_into, _QUERY.unpack, fcntl.ioctl
    lines: list[bytes] = []
    address = 0
    while True:
        pack(query, 0, _QUERY.size, _SHARED | _COVERING_OR_NEXT, address, 0, 0, 0, 0, 0, 0, 0, 0,
             _NAME_SIZE, 0, name_address, 0)
        try:
            ioctl(fd, PROCMAP_QUERY, query)
        except OSError as error:
            if error.errno in _ENDED:
                break
            if error.errno in _READ_THE_TEXT:
                return None
            raise
        (_size, _flags, _address, start, end, flags, _page, offset, inode,
         major, minor, name_size, _build_id_size, _name_address, _build_id_address) = unpack(query)
        path = name.raw[: name_size - 1] if name_size else b""
        if b"\n" in path:
            path = path.replace(b"\n", b"\\012")
        lines.append(b"%08x-%08x %c%c%cs %08x %02x:%02x %d %s\n" % (
            start, end,
            0x72 if flags & _READABLE else 0x2D, 0x77 if flags & _WRITABLE else 0x2D,
            0x78 if flags & _EXECUTABLE else 0x2D,
            offset, major, minor, inode, path))
        if end <= address:
            break  # never again the same mapping (the kernel's answer is at or after the address)
        address = end
    return b"".join(lines)
