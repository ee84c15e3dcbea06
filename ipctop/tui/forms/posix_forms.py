"""Forms for POSIX objects: create (shared memory, semaphore or queue), write, send, receive, post or
wait, set a semaphore's value, change mode or owner.  Each validates with ipctop/actions/posix_values.py
and dismisses with a request of ipctop/actions/posix_requests.py."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, RadioButton, RadioSet

from ipctop.actions import posix_requests as rq
from ipctop.actions import posix_values, validators
from ipctop.tui.forms.base import FormScreen

CREATE_KINDS = ("pshm", "psem", "pmsg")


class PosixCreateForm(FormScreen[rq.PosixRequest]):
    """shm_open+ftruncate, sem_open or mq_open with O_CREAT: which, its name, its size, value or capacity."""

    form_title = "Create a POSIX object"

    def compose_fields(self) -> ComposeResult:
        yield RadioSet(RadioButton("shared memory (shm_open)", value=True), RadioButton("named semaphore (sem_open)"),
                       RadioButton("message queue (mq_open)"), id="choice-kind")
        yield from self.input_field("name", "Name", placeholder="/jobs", hint="one component, such as /jobs")
        yield from self.input_field("size", "Size", value="4096", hint="shared memory: bytes (or 64K, 1M)")
        yield from self.input_field("value", "Value", value="0", hint="semaphore: its initial value")
        yield from self.input_field("capacity", "Capacity", placeholder="10x8192",
                                    hint="queue: MESSAGESxBYTES; empty: fs/mqueue's defaults")
        yield from self.input_field("mode", "Mode (octal)", value="600", placeholder="600")
        yield self.checkbox("excl", "O_EXCL: fail if it exists")

    def on_mount(self) -> None:
        self._enable("pshm")

    def _enable(self, kind: str) -> None:
        for field, owner in (("size", "pshm"), ("value", "psem"), ("capacity", "pmsg")):
            self.query_one(f"#input-{field}", Input).disabled = kind != owner

    @on(RadioSet.Changed, "#choice-kind")
    def _on_kind(self, event: RadioSet.Changed) -> None:
        self._enable(CREATE_KINDS[event.index])

    def build_request(self) -> rq.PosixRequest:
        kind = CREATE_KINDS[max(self.choice("kind"), 0)]
        name = posix_values.parse_name(self.text("name"), kind, field="name")
        mode = validators.parse_mode(self.text("mode"), field="mode")
        excl = self.checked("excl")
        if kind == "pshm":
            return rq.PosixShmCreateRequest(name, posix_values.parse_shm_size(self.text("size"), field="size"), mode,
                                            excl)
        if kind == "psem":
            value = posix_values.parse_posix_sem_value(self.text("value"), field="value")
            return rq.PosixSemCreateRequest(name, value, mode, excl)
        capacity = self.text("capacity").strip()
        max_messages = message_size = None
        if capacity:
            count, _, size = capacity.lower().partition("x")
            if not size:
                raise validators.ValidationError("capacity", "write it as MESSAGESxBYTES, such as 10x8192")
            max_messages = posix_values.parse_max_messages(count, field="capacity")
            message_size = posix_values.parse_message_size(size, field="capacity")
        return rq.PosixQueueCreateRequest(name, mode, excl, max_messages, message_size)


class PosixWriteForm(FormScreen[rq.PosixWriteRequest]):
    """pwrite into a shared memory object: an offset and a text that fits."""

    def __init__(self, name: str, size: int) -> None:
        super().__init__()
        self.object_name, self.size = name, size
        self.form_title = f"Write into {name} ({size} bytes)"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("offset", "Offset", value="0", hint=f"0..{max(self.size - 1, 0)}")
        yield from self.input_field("text", "Text (UTF-8)", placeholder="hello")

    def build_request(self) -> rq.PosixWriteRequest:
        if self.size == 0:
            raise validators.ValidationError("offset", f"{self.object_name} has size 0: there is nowhere to write")
        offset = validators.parse_offset(self.text("offset"), self.size, field="offset")
        data = validators.encode_text(self.text("text"), field="text")
        if not data:
            raise validators.ValidationError("text", "the text is empty: there is nothing to write")
        validators.check_fits(offset, len(data), self.size, field="text")
        return rq.PosixWriteRequest(self.object_name, offset, data)


class PosixSendForm(FormScreen[rq.PosixSendRequest]):
    """mq_send: a text of at most the queue's message size, a priority; wait or O_NONBLOCK."""

    def __init__(self, name: str, message_size: int | None) -> None:
        super().__init__()
        self.object_name, self.message_size = name, message_size
        self.form_title = f"Send a message to queue {name}"

    def compose_fields(self) -> ComposeResult:
        limit = f"at most {self.message_size} bytes" if self.message_size else "at most the queue's message size"
        yield from self.input_field("text", "Text (UTF-8)", placeholder="hello", hint=limit)
        yield from self.input_field("priority", "Priority", value="0", hint="0..32767: higher ones come out first")
        yield RadioSet(RadioButton("wait while the queue is full", value=True),
                       RadioButton("O_NONBLOCK: fail with EAGAIN if it is full"), id="choice-wait")

    def build_request(self) -> rq.PosixSendRequest:
        data = validators.encode_text(self.text("text"), field="text")
        if not data:
            raise validators.ValidationError("text", "the message is empty")
        if self.message_size is not None and len(data) > self.message_size:
            raise validators.ValidationError("text", f"the message is {len(data)} bytes, more than the queue's "
                                                     f"message size ({self.message_size})")  # fmt: skip
        priority = posix_values.parse_priority(self.text("priority"), field="priority")
        return rq.PosixSendRequest(self.object_name, data, priority, nowait=self.choice("wait") == 1)


class PosixReceiveForm(FormScreen[rq.PosixReceiveRequest]):
    """mq_receive: the oldest message of the highest priority; wait or O_NONBLOCK."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.object_name = name
        self.form_title = f"Receive a message from queue {name}"

    def compose_fields(self) -> ComposeResult:
        yield RadioSet(RadioButton("wait until a message arrives", value=True),
                       RadioButton("O_NONBLOCK: fail with EAGAIN if it is empty"), id="choice-wait")

    def build_request(self) -> rq.PosixReceiveRequest:
        return rq.PosixReceiveRequest(self.object_name, nowait=self.choice("wait") == 1)


class PosixSemOpForm(FormScreen[rq.PosixRequest]):
    """sem_post N times, or sem_wait (waiting, or sem_trywait)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.object_name = name
        self.form_title = f"Post or wait on semaphore {name}"

    def compose_fields(self) -> ComposeResult:
        yield RadioSet(RadioButton("sem_post: add 1, waking a waiter", value=True),
                       RadioButton("sem_wait: take 1, waiting while it is 0"),
                       RadioButton("sem_trywait: take 1, or fail with EAGAIN if it is 0"), id="choice-op")
        yield from self.input_field("count", "Posts", value="1", hint="how many times to post (1..100000)")

    def build_request(self) -> rq.PosixRequest:
        op = max(self.choice("op"), 0)
        if op == 0:
            return rq.PosixPostRequest(self.object_name, posix_values.parse_count(self.text("count"), field="count"))
        return rq.PosixWaitRequest(self.object_name, nowait=op == 2)


class PosixSemSetForm(FormScreen[rq.PosixSetRequest]):
    """Bring a semaphore's value to a number by posts or trywaits (there is no sem_setvalue)."""

    def __init__(self, name: str, value: int | None) -> None:
        super().__init__()
        self.object_name, self.initial = name, value
        self.form_title = f"Set the value of semaphore {name}"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("value", "Value", value="" if self.initial is None else str(self.initial),
                                    hint="reached by sem_post or sem_trywait, at most 100000 of them")

    def build_request(self) -> rq.PosixSetRequest:
        value = posix_values.parse_posix_sem_value(self.text("value"), field="value")
        return rq.PosixSetRequest(self.object_name, value, posix_values.SET_STEPS_MAX)


class PosixOwnerForm(FormScreen[rq.PosixOwnerRequest]):
    """chmod/chown: a new mode and/or owner; a field left as it was is not changed."""

    def __init__(self, kind: str, name: str, mode: int | None, owner: str) -> None:
        super().__init__()
        self.kind, self.object_name = kind, name
        self.initial_mode = f"{(mode or 0) & 0o777:03o}"
        self.initial_owner = owner
        self.form_title = f"Change mode or owner of {name}"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("mode", "Mode (octal)", value=self.initial_mode, placeholder="600")
        yield from self.input_field("owner", "Owner", value=self.initial_owner, placeholder="USER[:GROUP]",
                                    hint="USER, USER:GROUP or :GROUP, by name or number")

    def build_request(self) -> rq.PosixOwnerRequest:
        mode = validators.parse_mode(self.text("mode"), field="mode")
        owner_text = self.text("owner").strip()
        uid = gid = None
        if owner_text and owner_text != self.initial_owner:
            owner = validators.parse_owner(owner_text, field="owner")
            uid, gid = owner.uid, owner.gid
        if mode == int(self.initial_mode, 8) and uid is None and gid is None:
            raise validators.ValidationError("mode or owner", "neither was changed")
        return rq.PosixOwnerRequest(self.kind, self.object_name, mode, uid, gid)
