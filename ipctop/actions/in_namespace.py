"""Acting inside the IPC namespace a user names (`--ns`): which one it is, and doing it there.

The namespace is found as a scan finds them (collectors/namespaces.py), without a scan,
and entered by a thread of ipctop's own (kernel/ipcns.py): every System V call, every
read of /proc/sysvipc and of the namespace's limits made by that thread is the
namespace's, and pids stay the host's.  ipctop's own namespace is not entered at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from ipctop.actions.validators import ValidationError
from ipctop.collectors import namespaces
from ipctop.collectors.procfs import ProcFS
from ipctop.kernel.ipcns import Target, may_enter, run_in

T = TypeVar("T")


class NamespaceChoice(NamedTuple):
    """The namespace an action is for; `target` is None for ipctop's own."""

    inode: int
    name: str
    target: Target | None

    @property
    def label(self) -> str:
        return f"{self.name} (IPC namespace {self.inode})"


def own_namespace(proc: ProcFS | None = None) -> NamespaceChoice:
    proc = proc or ProcFS()
    return NamespaceChoice(namespaces.inode_of(os.readlink(f"{proc.root}/thread-self/ns/ipc")), namespaces.OWN_NAME,
                           None)


def known_namespaces(proc: ProcFS | None = None) -> list[namespaces.NamespaceInfo]:
    """Every IPC namespace with a process ipctop may look at, named, ipctop's own first."""
    proc = proc or ProcFS()
    discovery = namespaces.discover(proc, proc.pids(), os.readlink(f"{proc.root}/thread-self/ns/ipc"))
    return namespaces.name_namespaces(proc, discovery)


def choose_namespace(text: str, field: str = "--ns", proc: ProcFS | None = None) -> NamespaceChoice:
    """The one namespace `text` names (as `--ns` takes it); ValidationError says why there is none."""
    known = known_namespaces(proc)
    found = namespaces.matching_namespaces(known, text.strip())
    if len(found) != 1:
        names = ", ".join(ns.name for ns in known[:8]) + (", …" if len(known) > 8 else "")
        if not found and not may_enter():
            raise ValidationError(field, f"no IPC namespace of yours is named {text.strip()!r}; entering other "
                                         "users' and containers' namespaces needs root (CAP_SYS_ADMIN)")
        if not found:
            raise ValidationError(field, f"no IPC namespace is named {text.strip()!r} or has it as inode or pid "
                                         f"(there are: {names})")
        raise ValidationError(field, f"{text.strip()!r} names {len(found)} IPC namespaces "
                                     f"({', '.join(ns.name for ns in found)}): give more of the name, or the inode")
    (info,) = found
    if info.own:
        return NamespaceChoice(info.inode, info.name, None)
    if not may_enter():
        raise ValidationError(field, f"entering {info.name} (IPC namespace {info.inode}) needs root (CAP_SYS_ADMIN)")
    return NamespaceChoice(info.inode, info.name, Target(info.inode, info.members))


def check_names(text: str, field: str = "--ns") -> None:
    """Each name of `--ns NAME,...` must name an IPC namespace now (monitors and exporters match the
    names again at each scan); ValidationError says which does not."""
    from ipctop.namespace_scan import NOT_ROOT_NOTE
    from ipctop.query import choose_namespaces

    known = known_namespaces() if may_enter() else []
    try:
        choose_namespaces(known, own_namespace().inode, NOT_ROOT_NOTE, text)
    except ValueError as error:
        raise ValidationError(field, str(error)) from None


def inside(choice: NamespaceChoice | None, function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """`function(*args, **kwargs)` done inside the chosen namespace (directly for ipctop's own, or None);
    raises kernel.ipcns.Unenterable when its processes have all exited meanwhile."""
    if choice is None or choice.target is None:
        return function(*args, **kwargs)
    return run_in(choice.target, function, *args, **kwargs)
