"""Run test code as the unprivileged user `nobody`, in a child forked after the imports.

`nobody` cannot read /root, where this Python lives, so a fresh interpreter would
not start as that user: everything the function needs must already be imported.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable

NOBODY = 65534


def run_as_nobody(function: Callable[[], object]) -> object:
    """Call `function` in a forked child running as nobody; return what it returns (as JSON)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        payload = json.dumps({"error": "no result"})
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            payload = json.dumps({"value": function()})
        except BaseException as error:  # noqa: BLE001 - the parent reports what went wrong
            payload = json.dumps({"error": repr(error)})
        finally:
            with contextlib.suppress(BaseException):
                os.write(write_fd, payload.encode())
            os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    answer = json.loads(b"".join(chunks))
    assert "error" not in answer, answer["error"]
    return answer["value"]
