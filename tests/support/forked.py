"""The two halves of calling a test function in a forked child and getting its result back as JSON.

The child (`answer`) runs the function, writes `{"value": ...}` or `{"error": ...}` to a
pipe and leaves with os._exit, whatever happens; the parent (`answer_of`) reads the
pipe to its end, reaps the child and returns the value or fails with the child's error.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable


def answer(write_fd: int, function: Callable[[], object]) -> None:
    """In the child: send what `function()` returns (or the error it raised), then exit."""
    payload = json.dumps({"error": "no result"})
    try:
        payload = json.dumps({"value": function()})
    except BaseException as error:  # noqa: BLE001 - the parent reports what went wrong
        payload = json.dumps({"error": repr(error)})
    finally:
        with contextlib.suppress(BaseException):
            os.write(write_fd, payload.encode())
        os._exit(0)


def answer_of(read_fd: int, pid: int, nothing: str = "no result") -> object:
    """In the parent: the child's answer (the pipe read to its end, the child reaped)."""
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    result = json.loads(b"".join(chunks) or json.dumps({"error": nothing}).encode())
    assert "error" not in result, result["error"]
    return result["value"]
