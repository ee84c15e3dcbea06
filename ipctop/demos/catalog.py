"""The demos ipctop can run: name, one-line description, the lesson, and where the
script lives.  Pure data, so that `ipctop demo list` imports nothing else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DemoInfo:
    name: str
    description: str
    lesson: str
    entry: str  # "module:function" run in the demo process with a DemoContext
    steps: int
    role: str  # what the demo process itself is in the lesson


DEMOS: tuple[DemoInfo, ...] = (
    DemoInfo("pipe", "a parent and a forked child talk through a pipe until end of file",
             "A pipe has two ends, shared by fork; a reader blocks while the pipe is empty and gets "
             "end of file once every write end is closed.", "ipctop.demos.pipes:pipe", 5, "parent"),
    DemoInfo("pipe-full", "fill a pipe nobody reads: 64 KiB capacity, then write blocks; PIPE_BUF atomicity",
             "A pipe holds 65536 bytes by default (F_GETPIPE_SZ), not PIPE_BUF (4096); a full pipe blocks "
             "the writer; a write of up to PIPE_BUF bytes is never split, a longer one may be.",
             "ipctop.demos.pipes:pipe_full", 5, "reader"),
    DemoInfo("sigpipe", "the reader closes: the writer dies of SIGPIPE, or gets EPIPE if it ignores it",
             "Writing to a pipe with no reader raises SIGPIPE, which kills by default; a process that "
             "ignores SIGPIPE gets -1 EPIPE instead.", "ipctop.demos.pipes:sigpipe", 7, "reader"),
    DemoInfo("pipe-eof", "the writer closes: the reader's read returns 0, end of file",
             "read() returns 0 only when every write end is closed, including the reader's own copy.",
             "ipctop.demos.pipes:pipe_eof", 5, "reader"),
    DemoInfo("pipeline", "the shell's a | b | c: three siblings joined by two pipes from one parent",
             "A shell makes the pipes, forks each command, dup2()s the ends onto 0 and 1 and closes the rest; "
             "end of file flows down the pipeline.", "ipctop.demos.pipes:pipeline", 4, "shell"),
    DemoInfo("fifo", "mkfifo: a server reads, a client opens the path and writes; the file stays size 0",
             "A FIFO is a pipe with a name: open() for reading blocks until a writer opens, and the reverse; "
             "the data never touches the disk.", "ipctop.demos.fifos:fifo", 6, "server"),
    DemoInfo("fifo-nonblock", "O_NONBLOCK opens of a FIFO: read returns at once, write without reader is ENXIO",
             "open(O_RDONLY|O_NONBLOCK) returns at once; open(O_WRONLY|O_NONBLOCK) fails with ENXIO while "
             "nobody has the FIFO open for reading.", "ipctop.demos.fifos:fifo_nonblock", 6, "opener"),
    DemoInfo("shm", "ftok, a server and a client share a segment; nattch goes 0, 1, 2, 1, 0",
             "Two processes agree on a key with ftok, attach the same memory and see each other's writes; "
             "nattch counts the attachments.", "ipctop.demos.shm:shm", 7, "server"),
    DemoInfo("shm-perms", "a segment made without mode bits cannot be attached (EACCES); with 0666 it can",
             "The mode of shmget's flags is the segment's permission: forgetting it (mode 000) is the classic "
             "first bug.", "ipctop.demos.shm:shm_perms", 6, "creator"),
    DemoInfo("shm-dest", "IPC_RMID while attached: key 0, status dest, gone when the last detaches",
             "Removing an attached segment only marks it: the key becomes 0 (new shmget cannot find it) "
             "and it is destroyed when nattch reaches 0.", "ipctop.demos.shm:shm_dest", 5, "owner"),
    DemoInfo("shm-leak", "a process makes a segment and exits without IPC_RMID: the segment stays (left behind)",
             "System V objects have kernel lifetime: unlike a pipe, a segment outlives the process that made "
             "it. This demo leaves its segment behind on purpose.", "ipctop.demos.shm:shm_leak", 3, "parent"),
    DemoInfo("shm-fork", "fork inherits an attachment (nattch counts it); exec and exit drop it",
             "A forked child shares its parent's attachments without calling shmat; exec() and exit() "
             "detach.", "ipctop.demos.shm:shm_fork", 6, "parent"),
    DemoInfo("msgq", "a sender and a receiver: msgrcv with type 0, > 0 and < 0",
             "msgrcv type 0 takes the oldest message, type N the oldest of type N, type -N the lowest type "
             "up to N; a receiver with nothing to take blocks.", "ipctop.demos.msgq:msgq", 7, "sender"),
    DemoInfo("msgq-full", "a queue fills to msgmnb: the sender blocks, IPC_NOWAIT gets EAGAIN, IPC_RMID gives EIDRM",
             "A queue holds qbytes (msgmnb) bytes; a full queue blocks senders, or fails with EAGAIN under "
             "IPC_NOWAIT; removing it wakes every waiter with EIDRM.", "ipctop.demos.msgq:msgq_full", 5, "owner"),
    DemoInfo("sem-race", "two processes increment a shared counter, without then with a semaphore",
             "Read-modify-write on shared memory loses updates when two processes interleave; a semaphore "
             "around it makes the count exact.", "ipctop.demos.semrace:sem_race", 5, "parent"),
    DemoInfo("posix-shm", "shm_open, ftruncate, mmap; shm_unlink while mapped: the name goes, the memory stays",
             "POSIX shared memory is a file in /dev/shm that processes map; shm_unlink removes the name at once, "
             "the memory goes with the last munmap (like System V's dest).", "ipctop.demos.posix_shm:posix_shm",
             6, "writer"),
    DemoInfo("posix-mq", "mq_open with a capacity, mq_notify, priorities, a full queue blocking a sender",
             "A POSIX queue hands out the oldest message of the highest priority; mq_notify signals a process "
             "when the empty queue gets one; a full queue blocks senders, or says EAGAIN with O_NONBLOCK.",
             "ipctop.demos.posix_mq:posix_mq", 6, "owner"),
    DemoInfo("posix-sem", "two processes increment a counter in POSIX shared memory, then with sem_wait/sem_post",
             "Read-modify-write loses updates when two processes interleave; a named semaphore (sem_open) "
             "around it makes the count exact.", "ipctop.demos.posix_sem:posix_sem", 5, "parent"),
    DemoInfo("memfd", "memfd_create and passing the fd to a child: shared memory with no name at all",
             "A memfd is memory behind an fd, in no directory: it is shared by passing the fd (fork or "
             "SCM_RIGHTS) and lives exactly as long as its last holder, so it cannot leak.",
             "ipctop.demos.posix_shm:memfd", 5, "parent"),
    DemoInfo("shm-vs-pipe", "the same bytes to a child and back through pipes and through shared memory, timed",
             "A pipe copies every byte into the kernel and out again (four copies both ways); shared memory "
             "needs two, and the measured throughput shows it.", "ipctop.demos.shm_vs_pipe:shm_vs_pipe",
             3, "parent"),
)

NAMES = tuple(info.name for info in DEMOS)


def find(name: str) -> DemoInfo | None:
    return next((info for info in DEMOS if info.name == name), None)
