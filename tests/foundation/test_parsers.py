"""Parser edge cases of the collectors, on small fixture /proc trees."""

from __future__ import annotations

import os

from ipctop.collectors import attachments, fds, processes, sysvipc
from ipctop.collectors.procfs import ProcFS, parse_mountinfo
from ipctop.snapshot import take_snapshot

SHM_HEADER = (
    "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid"
    "      atime      dtime      ctime                   rss                  swap\n"
)


def test_negative_key_comes_out_unsigned():
    rows = sysvipc.parse_shm(SHM_HEADER + " -1660157951 7 600 4096 10 11 0 0 0 0 0 0 0 1700000000 0 0\n")
    assert rows[0].key == 0x9D0C0001
    assert rows[0].shmid == 7


def test_perms_are_octal_and_keep_dest_and_locked_bits():
    text = SHM_HEADER + "0 3 3640 4096 10 11 1 0 0 0 0 0 0 1700000000 4096 0\n"
    row = sysvipc.parse_shm(text)[0]
    assert row.perms == 0o3640
    from ipctop.snapshot import shm_status

    assert shm_status(row.perms) == ("dest", "locked")


def test_columns_are_read_by_header_name_not_position():
    text = "key msqid perms extra cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime\n"
    text += "5 9 644 99 10 2 100 0 0 0 0 0 1 0 1\n"
    row = sysvipc.parse_msg(text)[0]
    assert (row.msqid, row.perms, row.cbytes, row.qnum, row.lspid) == (9, 0o644, 10, 2, 100)


def test_torn_and_empty_lines_are_skipped():
    text = "key semid perms nsems uid gid cuid cgid otime ctime\n1 2 600 3 0 0 0 0 0 5\n1 2 60\n\nx y z a b c d e f g\n"
    rows = sysvipc.parse_sem(text)
    assert [r.semid for r in rows] == [2]


def test_stat_with_spaces_and_parentheses_in_the_name():
    text = "42 (my (odd) name) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 1000 100\n"
    fields = processes.parse_stat(text)
    assert (fields.comm, fields.state, fields.ppid, fields.start_ticks) == ("my (odd) name", "S", 1, 12345)


def test_fdinfo_flags_give_the_access_mode():
    assert fds.mode_from_flags(fds.parse_fdinfo_flags("pos:\t0\nflags:\t02000000\nmnt_id:\t15\n")) == "r"
    assert fds.mode_from_flags(fds.parse_fdinfo_flags("pos:\t0\nflags:\t02000001\n")) == "w"
    assert fds.mode_from_flags(fds.parse_fdinfo_flags("flags:\t0100002\n")) == "rw"


def test_maps_match_sysv_name_and_inode_not_memfd_on_the_same_device():
    maps = (
        b"7f0000000000-7f0000001000 rw-s 00000000 00:01 5                          /memfd:x (deleted)\n"
        b"7f0000001000-7f0000003000 r--s 00000000 00:01 5                          /SYSV00001234 (deleted)\n"
        b"7f0000003000-7f0000004000 rw-s 00000000 00:01 5                          /SYSV00001234 (deleted)\n"
        b"7f0000004000-7f0000005000 rw-s 00000000 00:01 6                          /SYSV00004321 (deleted)\n"
    )
    found = attachments.parse_sysv_maps(10, maps, {5})
    assert [(a.shmid, a.mode, a.name_key, a.start) for a in found] == [
        (5, "r", 0x1234, 0x7F0000001000),
        (5, "rw", 0x1234, 0x7F0000003000),
    ]


def test_a_split_mapping_of_one_attach_counts_once():
    maps = (
        b"7f0000001000-7f0000002000 rw-s 00000000 00:01 5   /SYSV00001234 (deleted)\n"
        b"7f0000002000-7f0000003000 r--s 00001000 00:01 5   /SYSV00001234 (deleted)\n"
    )
    found = attachments.parse_sysv_maps(10, maps)
    assert len(found) == 1 and found[0].end == 0x7F0000003000


def test_two_adjacent_attaches_count_twice():
    maps = (
        b"7f0000001000-7f0000002000 rw-s 00000000 00:01 5   /SYSV00001234 (deleted)\n"
        b"7f0000002000-7f0000003000 rw-s 00000000 00:01 5   /SYSV00001234 (deleted)\n"
    )
    assert len(attachments.parse_sysv_maps(10, maps)) == 2


def _fixture_proc(root) -> ProcFS:
    """A /proc with one dest segment attached by pid 100, which also holds a pipe end."""
    (root / "sysvipc").mkdir(parents=True)
    (root / "sysvipc" / "shm").write_text(SHM_HEADER + "0 5 1600 8192 100 100 1 0 0 0 0 0 0 1700000000 0 0\n")
    msg_header = "key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime\n"
    (root / "sysvipc" / "msg").write_text(msg_header)
    (root / "sysvipc" / "sem").write_text("key semid perms nsems uid gid cuid cgid otime ctime\n")
    (root / "stat").write_text("cpu 0 0 0 0\nbtime 1700000000\n")
    proc_dir = root / "100"
    (proc_dir / "fd").mkdir(parents=True)
    (proc_dir / "fdinfo").mkdir()
    (proc_dir / "ns").mkdir()
    os.symlink("pipe:[777]", proc_dir / "fd" / "3")
    os.symlink("socket:[1]", proc_dir / "fd" / "4")
    (proc_dir / "fdinfo" / "3").write_text("pos:\t0\nflags:\t01\n")
    os.symlink("ipc:[4026531839]", proc_dir / "ns" / "ipc")
    (proc_dir / "stat").write_text("100 (server) S 1 100 100 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 1000 100\n")
    (proc_dir / "cmdline").write_bytes(b"server\0--port\0")
    (proc_dir / "wchan").write_text("pipe_write")
    (proc_dir / "maps").write_bytes(b"7f0000001000-7f0000003000 rw-s 00000000 00:01 5   /SYSV0000abcd (deleted)\n")
    (root / "101").mkdir()  # a process that vanished: no files in it
    return ProcFS(str(root))


def test_snapshot_of_a_fixture_tree(tmp_path):
    snapshot = take_snapshot(_fixture_proc(tmp_path))
    segment = snapshot.shm[5]
    assert segment.status == ("dest",) and segment.key == 0 and segment.original_key == 0xABCD
    assert [(a.pid, a.comm, a.mode) for a in segment.attachers] == [(100, "server", "rw")]
    pipe = snapshot.pipes[777]
    assert [(e.pid, e.fd, e.mode) for e in pipe.ends] == [(100, 3, "w")]
    assert pipe.fill is None  # not measured outside the live /proc
    process = snapshot.processes[100]
    assert (process.cmdline, process.wchan, process.start_time) == ("server --port", "pipe_write", 1700000005.0)
    assert process.shm == (5,) and process.pipes[0].inode == 777


def test_mountinfo_gives_each_mount_its_unescaped_point_and_its_filesystem_options():
    text = ("22 27 0:21 / /proc rw,relatime - proc proc rw,hidepid=invisible\n"
            "36 35 98:0 / /mnt\\040x rw - ext3 /dev/root rw,errors=remount-ro\n"
            "not a mount line\n")
    mounts = parse_mountinfo(text)
    assert [(m.point, m.fstype, m.options) for m in mounts.values()] == [
        ("/proc", "proc", ("rw", "hidepid=invisible")), ("/mnt x", "ext3", ("rw", "errors=remount-ro"))]
