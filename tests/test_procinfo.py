"""Names that tell processes apart, and short words for where they sleep (ipctop/render/procinfo.py)."""

from __future__ import annotations

import os
import subprocess
import time

from ipctop.render.procinfo import name_of, process_name, wait_word
from ipctop.snapshot import take_snapshot


def test_a_title_a_script_or_the_comm():
    assert process_name("postgres", "postgres: checkpointer ") == "postgres: checkpointer"
    assert process_name("postgres", "postgres: alice shop [local]   idle") == "postgres: alice shop [local] idle"
    assert process_name("postgres", "/usr/lib/postgresql/15/bin/postgres -D /var/lib/pg") == "postgres"
    assert process_name("nginx", "nginx: worker process") == "nginx: worker process"
    assert process_name("sshd", "sshd: alice@pts/0") == "sshd: alice@pts/0"
    assert process_name("python3", "/usr/bin/python3 -u /srv/app/worker.py --queue a") == "python3 worker.py"
    assert process_name("python", "python -m http.server 8000") == "python -m http.server"
    assert process_name("python3", "python3 -c import time") == "python3"
    assert process_name("bash", "bash /dev/fd/3") == "bash"
    assert process_name("look.sh", "/bin/bash ./look.sh 200") == "look.sh"  # comm is the script already
    assert process_name("systemd-journal", "/usr/lib/systemd/systemd-journald") == "systemd-journald"
    assert process_name("memfd:sealed-91", "tools/backend --uid 0") == "backend"
    assert process_name("kworker/0:1", "") == "kworker/0:1"
    assert process_name("sleep", "sleep 1000") == "sleep"
    # Chromium and Electron children by their role (eleven `chromium` could not be told apart)
    assert process_name("chromium", "/usr/lib/chromium/chromium --type=renderer --lang=C") == "chromium --type=renderer"
    assert process_name("code", "/usr/share/code/code --type=gpu-process --no-sandbox") == "code --type=gpu-process"
    assert process_name("chromium", "/usr/lib/chromium/chromium --headless --no-sandbox") == "chromium"  # the browser
    assert process_name("ipctop", "/usr/bin/python3 /usr/bin/ipctop list --type=shm") == "ipctop"  # an option later on
    assert process_name("chrome_crashpad", "/opt/google/chrome/chrome_crashpad_handler --type=x") == (
        "chrome_crashpad_handler --type=x")


def test_short_words_for_where_a_process_sleeps():
    assert wait_word("poll_schedule_timeout.constprop.0") == "poll"
    assert wait_word("anon_pipe_read") == "pipe_read"
    assert wait_word("pipe_write") == "pipe_write"
    assert wait_word("__do_semtimedop") == "semop"
    assert wait_word("do_msgrcv") == "msgrcv"
    assert wait_word("hrtimer_nanosleep") == "sleep"
    assert wait_word("do_sigsuspend") == "sigsuspend"  # not in the table: the prefix goes
    assert wait_word("") == ""


def test_a_process_that_sets_its_title_is_named_by_it():
    read_end, write_end = os.pipe()
    # bash's `exec -a` sets argv[0], as PostgreSQL's and nginx's processes set their titles.
    child = subprocess.Popen(["bash", "-c", 'exec -a "ipctop-test: checkpointer" sleep 600'], stdout=write_end)
    os.close(write_end)
    try:
        deadline = time.monotonic() + 30
        while True:
            process = take_snapshot().processes.get(child.pid)
            # exec sets the comm before the new command line is in place (for that moment /proc/PID/cmdline
            # reads empty): the title is there once the command line is
            if process is not None and process.comm == "sleep" and process.cmdline:
                break
            assert time.monotonic() < deadline, "the child did not show up as sleep with its command line"
            time.sleep(0.05)
        assert name_of(process) == "ipctop-test: checkpointer 600"
    finally:
        child.kill()
        child.wait()
        os.close(read_end)
