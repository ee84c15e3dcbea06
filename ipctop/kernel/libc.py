"""The C library, loaded once for the kernel layer and the demos.

`libc.so.6` is tried by name first: ctypes.util.find_library runs `ldconfig -p`
in a subprocess, which costs more than the rest of `ipctop list` start-up.
"""

from __future__ import annotations

import ctypes
from functools import cache


@cache
def libc() -> ctypes.CDLL:
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        from ctypes.util import find_library  # only here: it imports subprocess, tempfile and random

        return ctypes.CDLL(find_library("c") or "libc.so.6", use_errno=True)
