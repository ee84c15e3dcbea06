"""Which container a process belongs to, from its /proc/PID/cgroup: a pure parser.

Container engines put each container's processes in a cgroup whose path names it:

- Docker: `/system.slice/docker-<id>.scope` (systemd driver), `/docker/<id>` (cgroupfs);
- Podman: `/machine.slice/libpod-<id>.scope[/container]`, `/libpod_parent/libpod-<id>`
  (not `libpod-conmon-<id>.scope`, its monitor, which stays on the host);
- Kubernetes pods (containerd, CRI-O, Docker): `kubepods…-pod<uid>.slice/cri-containerd-<id>.scope`,
  `crio-<id>.scope`, `/kubepods/<qos>/pod<uid>/<id>`: the pod, whose containers share one IPC
  namespace, with the container's id beside it;
- containerd alone (nerdctl): `nerdctl-<id>.scope`, `/<namespace>/<id>`; CRI-O: `crio-<id>.scope`;
- systemd-nspawn: `/machine.slice/machine-<name>.scope[/payload]` (systemd-escaped: `\\x2d` is `-`);
- LXC and LXD: `lxc.payload.<name>` (LXC 4 and later), `/lxc/<name>`; not `lxc.monitor.<name>`;
- nsjail: `NSJAIL.<pid>`.

A cgroup v1 machine prints one line per hierarchy; every line is looked at, the unified
(`0::`) and `name=systemd` lines first.  Nested containers (Docker in Docker) are named by
the innermost.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple


class Container(NamedTuple):
    kind: str  # "docker", "podman", "kubernetes", "containerd", "cri-o", "nspawn", "lxc", "nsjail"
    ident: str  # the container's id (or the pod's uid), or the machine's name
    name: str  # how ipctop names it: "docker:3f2a1b4c5d6e", "pod:1f2e3d4c", "lxc:web"
    detail: str = ""  # for a pod (whose containers share its IPC namespace), the id of the container read


_HEX_ID = r"[0-9a-f]{64}"


class _Patterns(NamedTuple):
    pod: re.Pattern[str]
    components: tuple[tuple[str, re.Pattern[str]], ...]  # (kind, pattern on one path component): the first match wins
    bare_id: re.Pattern[str]


@cache
def _patterns() -> _Patterns:
    """Compiled at the first use: only a machine with other IPC namespaces names containers, and the
    regexes cost every `ipctop list` 1.5 ms of start-up."""
    return _Patterns(
        re.compile(r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})"),
        (
            ("docker", re.compile(rf"^docker-({_HEX_ID})\.scope$")),
            ("podman", re.compile(rf"^libpod-({_HEX_ID})(?:\.scope)?$")),
            ("containerd", re.compile(rf"^cri-containerd-({_HEX_ID})\.scope$")),
            ("cri-o", re.compile(rf"^crio-({_HEX_ID})\.scope$")),
            ("containerd", re.compile(rf"^nerdctl-({_HEX_ID})\.scope$")),
            ("nspawn", re.compile(r"^machine-(.+)\.scope$")),
            ("lxc", re.compile(r"^lxc\.payload\.(.+)$")),
            ("nsjail", re.compile(r"^NSJAIL\.(\d+)$")),
        ),
        re.compile(rf"^{_HEX_ID}$"),
    )


def unescape_systemd(name: str) -> str:
    """systemd's unit-name escaping undone: `\\x2d` is `-`."""
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), name)


def cgroup_lines(text: str) -> list[tuple[str, str]]:
    """(hierarchy, path) of each line of /proc/PID/cgroup, the unified and name=systemd ones first."""
    lines = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[2].startswith("/"):
            lines.append((parts[1], parts[2]))
    return sorted(lines, key=lambda line: (line[0] not in ("", "name=systemd"), line[0]))


def container_of_path(path: str) -> Container | None:
    """The container a cgroup path names, innermost first; None when it names none."""
    components = [c for c in path.split("/") if c]
    patterns = _patterns()
    pod = None
    for component in components:
        match = patterns.pod.search(component)
        if match and ("kubepods" in path):
            pod = match.group(1).replace("_", "-")
    for at in range(len(components) - 1, -1, -1):
        component = components[at]
        for kind, pattern in patterns.components:
            match = pattern.match(component)
            if match is None:
                continue
            ident = match.group(1)
            if pod is not None:
                return Container("kubernetes", pod, f"pod:{pod[:8]}", ident)
            if kind == "nspawn":
                ident = unescape_systemd(ident)
                return Container(kind, ident, f"nspawn:{ident}")
            if kind in ("lxc", "nsjail"):
                return Container(kind, ident, f"{kind}:{ident}")
            return Container(kind, ident, f"{kind}:{ident[:12]}")
        parent = components[at - 1] if at > 0 else ""
        if patterns.bare_id.match(component):
            if pod is not None:
                return Container("kubernetes", pod, f"pod:{pod[:8]}", component)
            if parent == "docker":
                return Container("docker", component, f"docker:{component[:12]}")
            if parent.startswith("libpod"):
                return Container("podman", component, f"podman:{component[:12]}")
            if at == 1:  # /<containerd namespace>/<id>
                return Container("containerd", component, f"containerd:{component[:12]}")
        if parent == "lxc" and at == 1:
            return Container("lxc", component, f"lxc:{component}")
    if pod is not None:
        return Container("kubernetes", pod, f"pod:{pod[:8]}")
    return None


def container_of(cgroup_text: str) -> Container | None:
    """The container named by any line of a /proc/PID/cgroup."""
    for _hierarchy, path in cgroup_lines(cgroup_text):
        found = container_of_path(path)
        if found is not None:
            return found
    return None


def main_cgroup(cgroup_text: str) -> str:
    """The path a user knows a process's cgroup by: the unified one, else name=systemd's ("" when neither)."""
    for hierarchy, path in cgroup_lines(cgroup_text):
        if hierarchy in ("", "name=systemd"):
            return path
    return ""
