"""The terminal driver: Textual's Linux driver, with an input thread that sleeps until there is input.

Textual 8.2.8's `LinuxDriver.run_input_thread` waits for keys with `select()` and a 0.1 s
timeout, so that it notices the exit and an escape sequence cut short: ten wake-ups a
second while nobody types, a tenth of a point of a core, as much as the rest of an idle
monitor at `-d 10`.  Here the thread waits without a timeout unless the parser is in
the middle of a sequence (then until the parser's own deadline), and the exit wakes it
with a byte on a pipe of the driver's own.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import threading
from codecs import getincrementaldecoder

from textual._parser import ParseError
from textual._time import get_time
from textual.drivers import linux_driver
from textual.drivers.linux_driver import LinuxDriver

READ_SIZE = 1024 * 4  # what Textual reads at once
CHECKED_WITH = "8."  # the Textual releases whose LinuxDriver input loop this one follows


def fits(textual_version: str) -> bool:
    """Whether this driver may stand in for Textual's: its loop is Textual's with other waits, so
    another major release (whose loop may differ) keeps Textual's own driver."""
    return textual_version.startswith(CHECKED_WITH)


class WakingEvent(threading.Event):
    """An Event whose `set` also writes a byte to `wake_fd`, waking a thread waiting in select()."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self.wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # full (it is awake already) or closed (the driver is done)
            os.write(self.wake_fd, b"\0")


def parser_deadline(parser: object) -> float | None:
    """When the parser gives up waiting for the rest of a sequence (None: it waits for nothing).

    Read from a private attribute of Textual's Parser; should it go, the thread polls as Textual's own does."""
    return getattr(parser, "_timeout_time", get_time() + 0.1)


class QuietLinuxDriver(LinuxDriver):
    """LinuxDriver whose input thread wakes only for input, a sequence's deadline, or the exit."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.exit_event = WakingEvent(self._wake_write)

    def close(self) -> None:
        super().close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def run_input_thread(self) -> None:
        """Textual's loop (linux_driver.py), with the waits above."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        parser = linux_driver.XTermParser(self._debug)  # the module's: ipctop installs its own (typeahead.py)
        decode = getincrementaldecoder("utf-8")().decode
        terminal = os.isatty(self.fileno)
        ended = False  # no key can come any more: the terminal is gone, or piped input is at its end
        try:
            while not ended and not self.exit_event.is_set():
                deadline = parser_deadline(parser)
                timeout = None if deadline is None else max(0.0, deadline - get_time())
                ready = selector.select(timeout)
                for key, mask in ready:
                    if key.fd == self._wake_read:
                        with contextlib.suppress(OSError):
                            os.read(self._wake_read, 64)
                    elif mask & selectors.EVENT_READ:
                        try:
                            raw = os.read(self.fileno, READ_SIZE)
                        except OSError:  # EIO: the terminal hung up
                            raw = b""
                        if not raw:
                            # Textual's loop left only the `for` here, and select() then said "readable"
                            # at once forever: a thread spinning a core when the terminal went away
                            # without a SIGHUP reaching ipctop (run under runuser or sudo, say)
                            ended = True
                            break
                        for event in parser.feed(decode(raw)):
                            self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
            for event in parser.tick():
                self.process_message(event)
        finally:
            selector.close()
            with contextlib.suppress(EOFError, ParseError):
                for _event in parser.feed(""):
                    pass
        if ended and terminal and not self.exit_event.is_set():
            # the terminal is gone: end as when the kernel hangs up on the session (the app's SIGHUP exit)
            os.kill(os.getpid(), signal.SIGHUP)
