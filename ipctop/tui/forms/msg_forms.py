"""Forms for message queues: create, send, receive."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import RadioButton, RadioSet, Static

from ipctop.actions import validators
from ipctop.actions.requests import MsgCreateRequest, MsgReceiveRequest, MsgSendRequest
from ipctop.tui.forms.base import FormScreen, KeyedFormScreen

RECEIVE_TYPES = (
    "Type 0: the first message in the queue.\n"
    "Type N > 0: the first message of type N.\n"
    "Type N < 0: the first message of the lowest type that is <= |N|."
)


def _wait_choice(field: str, waiting: str, not_waiting: str) -> RadioSet:
    return RadioSet(RadioButton(waiting, value=True), RadioButton(not_waiting), id=f"choice-{field}")


class MsgCreateForm(KeyedFormScreen[MsgCreateRequest]):
    """msgget with IPC_CREAT: key (hex, ftok or private), mode, IPC_EXCL."""

    form_title = "Create a message queue"

    def compose_fields(self) -> ComposeResult:
        yield from self.key_fields()
        yield from self.mode_and_excl()

    def build_request(self) -> MsgCreateRequest:
        key = self.key_value()
        mode = validators.parse_mode(self.text("mode"), field="mode")
        return MsgCreateRequest(key, mode, excl=self.checked("excl") and key != 0)


class MsgSendForm(FormScreen[MsgSendRequest]):
    """msgsnd: a type above 0 and a text of at most msgmax bytes; wait or IPC_NOWAIT when full."""

    def __init__(self, msqid: int, msgmax: int | None = None) -> None:
        super().__init__()
        self.msqid = msqid
        self.msgmax = msgmax if msgmax is not None else validators.current_limits().msgmax
        self.form_title = f"Send a message to queue {msqid}"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("type", "Type", value="1", hint="a whole number above 0")
        yield from self.input_field("text", "Text (UTF-8)", placeholder="the message to send",
                                    hint=f"at most msgmax ({self.msgmax}) bytes")
        yield _wait_choice("wait", "wait while the queue is full", "IPC_NOWAIT: fail with EAGAIN if it is full")

    def build_request(self) -> MsgSendRequest:
        mtype = validators.parse_send_type(self.text("type"), field="type")
        if not self.text("text"):
            raise validators.ValidationError("text", "the message is empty; type the text to send")
        data = validators.parse_message(self.text("text"), field="text", msgmax=self.msgmax)
        return MsgSendRequest(self.msqid, mtype, data, nowait=self.choice("wait") == 1)


class MsgReceiveForm(FormScreen[MsgReceiveRequest]):
    """msgrcv: which message by type (0, > 0, < 0) and whether to wait."""

    def __init__(self, msqid: int) -> None:
        super().__init__()
        self.msqid = msqid
        self.form_title = f"Receive a message from queue {msqid}"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("type", "Type", value="0")
        yield Static(RECEIVE_TYPES, classes="hint", markup=False)
        yield _wait_choice("wait", "wait until such a message arrives",
                           "IPC_NOWAIT: fail with ENOMSG if there is none")

    def build_request(self) -> MsgReceiveRequest:
        mtype = validators.parse_receive_type(self.text("type"), field="type")
        return MsgReceiveRequest(self.msqid, mtype, nowait=self.choice("wait") == 1)
