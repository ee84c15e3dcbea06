"""The one way text from the machine is shown: control characters and other non-printables escaped.

Process names (prctl PR_SET_NAME), command lines, user names, FIFO paths and
file names are chosen by whoever runs the process or makes the file.  Printed
raw, `\\e[2J` clears the screen, `\\e]0;…\\a` retitles the terminal and a newline
forges a row.  ps(1) shows such characters as `?`; ipctop shows them as escapes,
`\\x1b`, `\\n`, `\\t`, `\\u202e` (as `ls -b` and lsof do), because a `?` hides which
character it was, makes two different names look alike and cannot be searched
for, while an escape says exactly what is there and still takes one line.  A
byte that is not UTF-8 (kept by Python as a lone surrogate) is shown as the byte,
`\\xff`.  A backslash itself is left as it is (ps and lsof do the same): a name
holding the four characters `\\x1b` then reads like an escape, but it cannot act
on the terminal, which is what matters; doubling every backslash would make
command lines with regular expressions hard to read and escape twice the C
strings that the demos' narration already writes with escapes.

JSON output is not escaped: JSON escapes control characters itself and keeps
the text exact for programs.
"""

from __future__ import annotations

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that did not decode (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, keep: str = "") -> str:
    """`text` with every character a terminal would act on, or not show, escaped; `keep` lists
    characters to leave as they are (e.g. "\\n" for text of several lines ipctop itself wrote)."""
    if text.isprintable():
        return text  # nearly always: one C-speed scan
    parts = []
    for char in text:
        if char in keep:
            parts.append(char)
        elif char in _NAMED:
            parts.append(_NAMED[char])
        elif char.isprintable():
            parts.append(char)
        else:
            parts.append(_escaped(char))
    return "".join(parts)
