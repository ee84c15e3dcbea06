"""The cgroup parser that names a namespace's container: edge cases on fixture strings.

(Real processes in a made-up container cgroup are in test_naming.py.)
"""

from __future__ import annotations

import pytest

from ipctop.collectors.containers import container_of, container_of_path, main_cgroup, unescape_systemd

ID = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"
ID2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
POD = "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718"
POD_SYSTEMD = POD.replace("-", "_")


@pytest.mark.parametrize(
    ("path", "kind", "ident", "name"),
    [
        # Docker: systemd and cgroupfs drivers, and Docker in Docker (the innermost names it)
        (f"/system.slice/docker-{ID}.scope", "docker", ID, "docker:3f2a1b4c5d6e"),
        (f"/docker/{ID}", "docker", ID, "docker:3f2a1b4c5d6e"),
        (f"/docker/{ID}/docker/{ID2}", "docker", ID2, "docker:0123456789ab"),
        # Podman: rootful with a cgroup namespace (its payload in /container), cgroupfs, rootless
        (f"/machine.slice/libpod-{ID}.scope/container", "podman", ID, "podman:3f2a1b4c5d6e"),
        (f"/libpod_parent/libpod-{ID}", "podman", ID, "podman:3f2a1b4c5d6e"),
        (f"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope", "podman", ID,
         "podman:3f2a1b4c5d6e"),
        # Kubernetes: one IPC namespace per pod, whatever the runtime and driver
        (f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{POD_SYSTEMD}.slice/"
         f"cri-containerd-{ID}.scope", "kubernetes", POD, "pod:1f2e3d4c"),
        (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{POD_SYSTEMD}.slice/crio-{ID}.scope",
         "kubernetes", POD, "pod:1f2e3d4c"),
        (f"/kubepods.slice/kubepods-pod{POD_SYSTEMD}.slice/docker-{ID}.scope", "kubernetes", POD, "pod:1f2e3d4c"),
        (f"/kubepods/besteffort/pod{POD}/{ID}", "kubernetes", POD, "pod:1f2e3d4c"),
        (f"/kubepods/pod{POD}", "kubernetes", POD, "pod:1f2e3d4c"),
        # containerd alone and CRI-O
        (f"/system.slice/nerdctl-{ID}.scope", "containerd", ID, "containerd:3f2a1b4c5d6e"),
        (f"/default/{ID}", "containerd", ID, "containerd:3f2a1b4c5d6e"),
        (f"/machine.slice/crio-{ID}.scope", "cri-o", ID, "cri-o:3f2a1b4c5d6e"),
        # systemd-nspawn (escaped names; the payload's own cgroup), LXC 4+ and older, nsjail
        ("/machine.slice/machine-my\\x2dbox.scope/payload", "nspawn", "my-box", "nspawn:my-box"),
        ("/machine.slice/machine-web.scope", "nspawn", "web", "nspawn:web"),
        ("/lxc.payload.web/init.scope", "lxc", "web", "lxc:web"),
        ("/lxc/web", "lxc", "web", "lxc:web"),
        ("/NSJAIL.4242", "nsjail", "4242", "nsjail:4242"),
    ],
)
def test_container_layouts(path, kind, ident, name):
    found = container_of_path(path)
    assert found is not None, path
    assert (found.kind, found.ident, found.name) == (kind, ident, name)


def test_a_pod_names_the_container_that_was_read_beside_it():
    found = container_of_path(f"/kubepods/besteffort/pod{POD}/{ID}")
    assert found.detail == ID


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/user.slice/user-1000.slice/session-2.scope",
        "/system.slice/nginx.service",
        f"/machine.slice/libpod-conmon-{ID}.scope",  # Podman's monitor runs on the host
        "/lxc.monitor.web",  # LXC's monitor too
        "/docker",  # the parent of containers, not one
        "/docker/not-an-id",
        f"/system.slice/docker-{ID[:12]}.scope",  # a short id is not how Docker names a scope
        "/kubepods.slice/kubepods-besteffort.slice",  # no pod in it
        f"/a/b/{ID}",  # an id deep in an unknown layout
    ],
)
def test_paths_that_name_no_container(path):
    assert container_of_path(path) is None


def test_every_line_of_a_cgroup_v1_file_is_looked_at():
    text = (
        "12:pids:/\n"
        f"11:memory:/docker/{ID}\n"
        "1:name=systemd:/user.slice/user-0.slice/session-1.scope\n"
        "0::/\n"
    )
    assert container_of(text).name == "docker:3f2a1b4c5d6e"
    assert main_cgroup(text) == "/"  # the unified line first


def test_main_cgroup_prefers_the_unified_line_then_systemd_then_none():
    assert main_cgroup("4:memory:/x\n1:name=systemd:/system.slice/a.service\n") == "/system.slice/a.service"
    assert main_cgroup("4:memory:/x\n0::/system.slice/b.service\n") == "/system.slice/b.service"
    assert main_cgroup("4:memory:/x\n") == ""


def test_malformed_and_empty_lines_are_skipped():
    assert container_of("") is None
    assert container_of("garbage\n::\n3:cpu\n") is None
    assert container_of(f"garbage\n0::/docker/{ID}\n").kind == "docker"


def test_systemd_unescaping():
    assert unescape_systemd("my\\x2dbox\\x2e1") == "my-box.1"
    assert unescape_systemd("plain") == "plain"
