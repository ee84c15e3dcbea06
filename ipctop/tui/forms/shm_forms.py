"""Forms for shared memory: create, attach, write, and IPC_SET of mode and owner."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import RadioButton, RadioSet, Static

from ipctop.actions import validators
from ipctop.actions.requests import AttachRequest, ShmCreateRequest, ShmSetRequest, WriteRequest
from ipctop.model import Limits
from ipctop.render.formatting import human_bytes
from ipctop.tui.forms.base import FormScreen, KeyedFormScreen


class ShmCreateForm(KeyedFormScreen[ShmCreateRequest]):
    """shmget with IPC_CREAT: key (hex, ftok or private), size, mode, IPC_EXCL."""

    form_title = "Create a shared memory segment"

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__()
        self.limits = limits

    def compose_fields(self) -> ComposeResult:
        yield from self.key_fields()
        shmmax = validators.current_limits(self.limits).shmmax
        yield from self.input_field("size", "Size (bytes)", value="4096", placeholder="e.g. 4096, 64K, 1M",
                                    hint=f"1 byte up to shmmax ({human_bytes(shmmax)})")
        yield from self.mode_and_excl()

    def build_request(self) -> ShmCreateRequest:
        key = self.key_value()
        size = validators.parse_size(self.text("size"), self.limits, field="size")
        mode = validators.parse_mode(self.text("mode"), field="mode")
        return ShmCreateRequest(key, size, mode, excl=self.checked("excl") and key != 0)


class AttachForm(FormScreen[AttachRequest]):
    """Attach a segment to ipctop itself, read-write or read-only."""

    def __init__(self, shmid: int, label: str = "") -> None:
        super().__init__()
        self.shmid = shmid
        self.form_title = f"Attach segment {shmid}{f' ({label})' if label else ''} to ipctop"

    def compose_fields(self) -> ComposeResult:
        yield Static("ipctop attaches it and holds it (it shows as an attacher) until you detach or quit.",
                     classes="note", markup=False)
        with RadioSet(id="choice-access"):
            yield RadioButton("read-write", value=True)
            yield RadioButton("read-only (SHM_RDONLY)")

    def build_request(self) -> AttachRequest:
        return AttachRequest(self.shmid, readonly=self.choice("access") == 1)


class WriteForm(FormScreen[WriteRequest]):
    """Text to write into a segment ipctop holds, at an offset."""

    def __init__(self, shmid: int, size: int) -> None:
        super().__init__()
        self.shmid = shmid
        self.segment_size = size
        self.form_title = f"Write into segment {shmid} ({size} bytes)"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("text", "Text (UTF-8)", placeholder="the text to write")
        yield from self.input_field("offset", "Offset", value="0", hint=f"0..{self.segment_size - 1}")

    def build_request(self) -> WriteRequest:
        offset = validators.parse_offset(self.text("offset"), self.segment_size, field="offset")
        data = validators.encode_text(self.text("text"), field="text")
        if not data:
            raise validators.ValidationError("text", "there is nothing to write")
        validators.check_fits(offset, len(data), self.segment_size, field="text")
        return WriteRequest(self.shmid, offset, data)


class ChmodChownForm(FormScreen[ShmSetRequest]):
    """IPC_SET: a new mode and/or owner; a field left as it was is not changed."""

    def __init__(self, shmid: int, mode: int, owner: str = "") -> None:
        super().__init__()
        self.shmid = shmid
        self.initial_mode = f"{mode & 0o777:03o}"
        self.initial_owner = owner
        self.form_title = f"Change mode or owner of segment {shmid} (IPC_SET)"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("mode", "Mode (octal)", value=self.initial_mode, placeholder="e.g. 600")
        yield from self.input_field("owner", "Owner", value=self.initial_owner, placeholder="USER[:GROUP]",
                                    hint="USER, USER:GROUP or :GROUP, by name or number")

    def build_request(self) -> ShmSetRequest:
        mode_text, owner_text = self.text("mode"), self.text("owner")
        mode = validators.parse_mode(mode_text, field="mode")
        uid = gid = None
        if owner_text.strip() and owner_text.strip() != self.initial_owner:
            owner = validators.parse_owner(owner_text, field="owner")
            uid, gid = owner.uid, owner.gid
        if mode == int(self.initial_mode, 8) and uid is None and gid is None:
            raise validators.ValidationError("mode or owner", "neither was changed")
        return ShmSetRequest(self.shmid, mode, uid, gid)
