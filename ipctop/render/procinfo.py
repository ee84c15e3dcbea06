"""How a process reads to a person: a name that tells it apart, and a word for where it sleeps.

`comm` is what the kernel calls a process (15 characters at most), and for many
programs it says too little: eleven `postgres` cannot be told apart, nor a
multiprocessing pool's `python` workers from the script that runs them.  Their
command lines say more, because PostgreSQL, nginx, sshd and others set them as
titles (`postgres: checkpointer`), or because an interpreter's first argument is
the script.  `process_name` picks what tells most, from the comm and the command
line the snapshot already has.

`wait_word` turns the kernel function a process sleeps in (/proc/PID/wchan:
`poll_schedule_timeout.constprop.0`, `anon_pipe_read`) into a short word for a
table cell (`poll`, `pipe_read`); the detail shows the whole symbol.  Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from ipctop.model import Process

# Programs whose first argument (a script, or `-m module`) says what runs.
INTERPRETER = re.compile(r"(python|pypy|perl|ruby|node|nodejs|php|lua|bash|sh|dash|zsh|ksh|tclsh|Rscript)[0-9.]*")
COMM_LENGTH = 15  # TASK_COMM_LEN - 1: a longer program name is cut to this in comm

# Where a process sleeps, by wchan symbol (after the compiler's suffixes are cut off).
WAIT_WORDS = {
    "pipe_read": "pipe_read",
    "anon_pipe_read": "pipe_read",
    "pipe_write": "pipe_write",
    "anon_pipe_write": "pipe_write",
    "pipe_wait": "pipe",
    "wait_for_partner": "fifo_open",
    "do_msgrcv": "msgrcv",
    "do_msgsnd": "msgsnd",
    "do_semtimedop": "semop",
    "__do_semtimedop": "semop",
    "poll_schedule_timeout": "poll",
    "do_poll": "poll",
    "do_sys_poll": "poll",
    "do_select": "select",
    "core_sys_select": "select",
    "ep_poll": "epoll",
    "do_epoll_wait": "epoll",
    "hrtimer_nanosleep": "sleep",
    "do_nanosleep": "sleep",
    "do_wait": "wait",
    "kernel_wait4": "wait",
    "futex_wait_queue": "futex",
    "futex_wait_queue_me": "futex",
    "futex_do_wait": "futex",
    "do_sigtimedwait": "sigwait",
    "do_signal_stop": "stopped",
    "signal_stop": "stopped",
    "ptrace_stop": "traced",
    "__do_sys_pause": "pause",
    "sys_pause": "pause",
    "n_tty_read": "tty_read",
    "wait_woken": "wait",
    "unix_stream_read_generic": "sock_read",
    "sk_wait_data": "sock_read",
    "inet_csk_accept": "accept",
    "unix_wait_for_peer": "sock_write",
    "sock_alloc_send_pskb": "sock_write",
}
# Words for a wait on an IPC object: the panes show them in the warning colour.
IPC_WAIT_WORDS = frozenset({"pipe_read", "pipe_write", "pipe", "fifo_open", "msgrcv", "msgsnd", "semop"})
_SUFFIX = re.compile(r"\.(constprop|isra|part|cold|lto_priv)\.\d+")


@lru_cache(maxsize=16384)  # a table of 10,000 rows names the same few processes again and again
def process_name(comm: str, cmdline: str) -> str:
    """The name that tells a process apart: its title (`postgres: checkpointer`), the script its
    interpreter runs (`python worker.py`, `python -m http.server`), its program's full name when
    comm cut it, else its comm; with the role of a Chromium or Electron child (`chromium --type=renderer`)."""
    words = cmdline.split()
    if not words:
        return comm  # a kernel thread, or a process that is exiting
    if cmdline.startswith(f"{comm}:") or words[0].endswith(":"):
        return " ".join(words)  # a title set by the process itself (several spaces are padding)
    program = words[0].rsplit("/", 1)[-1]
    if INTERPRETER.fullmatch(program) and program.startswith(comm[:COMM_LENGTH]):
        for i, word in enumerate(words[1:], 1):
            if word == "-m" and i + 1 < len(words):
                return f"{program} -m {words[i + 1]}"
            if word == "-c" or word.startswith(("/dev/fd/", "/proc/self/fd/")):
                return program  # code given inline, or a script read from a pipe: no name to show
            if not word.startswith("-"):
                return f"{program} {word.rsplit('/', 1)[-1]}"
        return program
    name = comm
    if len(comm) == COMM_LENGTH and program.startswith(comm) and program != comm:
        name = program  # comm is the first 15 characters of the program's name
    elif comm.startswith("memfd:") and program:
        name = program  # run from a memfd (fexecve): comm names the memfd, the command line the program
    if len(words) > 1 and words[1].startswith("--type=") and len(words[1]) > 7:
        # Chromium and every Electron program (VS Code, Slack, ...) start each child as `PROGRAM
        # --type=ROLE ...`: a renderer, the GPU process, a zygote; the browser itself has no --type
        return f"{name} {words[1]}"
    return name


def name_of(process: Process) -> str:
    return process_name(process.comm, process.cmdline)


def label(pid: int, processes: Mapping[int, Process], comm: str = "") -> str:
    """A process as `name[pid]`: its name from the snapshot if it is there, else the comm given."""
    process = processes.get(pid)
    if process is not None:
        return f"{name_of(process)}[{pid}]"
    return f"{comm}[{pid}]"


def brief_label(pid: int, processes: Mapping[int, Process], comm: str = "") -> str:
    """A process as `comm[pid]`: shorter than `label`, for a column with little room."""
    process = processes.get(pid)
    return f"{process.comm if process is not None else comm}[{pid}]"


def wait_word(wchan: str) -> str:
    """A short word for where a process sleeps: `poll` for `poll_schedule_timeout.constprop.0`,
    `pipe_read` for `anon_pipe_read`; '' when it runs."""
    if not wchan:
        return ""
    symbol = _SUFFIX.sub("", wchan)
    word = WAIT_WORDS.get(symbol)
    if word is not None:
        return word
    for prefix in ("__do_sys_", "__x64_sys_", "do_sys_", "__se_sys_", "do_", "__"):
        if symbol.startswith(prefix) and len(symbol) > len(prefix):
            return symbol[len(prefix) :]
    return symbol
