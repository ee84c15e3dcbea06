"""The TUI forms with Pilot in a tiny host App: errors next to the field, typed requests,
and whole flows against real kernel objects (create, attach, write, read back, detach,
IPC_RMID on an attached segment, send/receive, a semaphore that wakes a waiter)."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from textual.app import App
from textual.widgets import Input, RadioSet

from ipctop.actions import operations
from ipctop.actions import requests as rq
from ipctop.actions.confirmations import shm_remove_text
from ipctop.actions.hexdump import hexdump
from ipctop.actions.holdings import Holdings
from ipctop.kernel import sysv
from ipctop.model import Limits
from ipctop.snapshot import take_snapshot
from ipctop.tui.forms import (
    AttachForm,
    ChmodChownForm,
    ConfirmScreen,
    KillForm,
    MsgCreateForm,
    MsgReceiveForm,
    MsgSendForm,
    SemCreateForm,
    SemOpForm,
    SemSetForm,
    ShmCreateForm,
    WriteForm,
)
from tests.actions.helpers import maps_mention, sysvipc_row
from tests.support.holders import wait_until, wchan

LIMITS = Limits(shmmax=1 << 20, shmall=1 << 20, shmmni=4096, msgmax=16, msgmnb=16384, msgmni=32000,
                semmsl=4, semmns=32000, semopm=500, semmni=32000, pipe_max_size=1 << 20)
UNSET = object()


class Host(App):
    """Pushes screens one after another and keeps what each dismisses with."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[Any] = []


def fill(form: Any, **values: str) -> None:
    for field, text in values.items():
        form.query_one(f"#input-{field.replace('_', '-')}", Input).value = text


async def submit(pilot: Any, form: Any, field: str = "") -> None:
    """Enter in an input (the first one, or `field`), as a user would."""
    target = form.query_one(f"#input-{field}", Input) if field else form.query(Input).first()
    target.focus()
    await pilot.press("enter")
    await pilot.pause()


def drive_many(*steps: tuple[Any, Any]) -> list[Any]:
    """For each (screen, script): push the screen, run `script(pilot, screen)`, keep its result.

    One app for all of them: starting an app costs more than a form does.
    """
    app = Host()

    async def main() -> None:
        async with app.run_test(size=(100, 50)) as pilot:
            for screen, script in steps:
                before = len(app.results)
                app.push_screen(screen, app.results.append)
                await pilot.pause()
                await script(pilot, screen)
                await pilot.pause()
                if len(app.results) == before:  # the script left it open
                    screen.dismiss(None)
                    await pilot.pause()
                    app.results[-1] = UNSET

    asyncio.run(main())
    return app.results


def drive(screen: Any, script) -> Any:  # type: ignore[no-untyped-def]
    return drive_many((screen, script))[0]


def test_shm_create_form_shows_each_error_next_to_its_field_then_dismisses_typed():
    seen: list[dict[str, str]] = []

    async def script(pilot, form):  # type: ignore[no-untyped-def]
        fill(form, key="0x1g")
        await submit(pilot, form, "key")
        seen.append(form.shown_errors())
        fill(form, key="0x49501234", size="2M")
        await submit(pilot, form, "size")
        seen.append(form.shown_errors())
        fill(form, size="64K", mode="0800")
        await submit(pilot, form, "mode")
        seen.append(form.shown_errors())
        assert form.is_attached  # still open
        fill(form, mode="0640")
        form.query_one("#check-excl").value = True
        await submit(pilot, form, "mode")

    result = drive(ShmCreateForm(LIMITS), script)
    assert seen == [
        {"key": "key: '0x1g' is not a key in hex (0x1234) or decimal"},
        {"size": "size: '2M' is larger than shmmax (1048576 bytes)"},
        {"mode": "mode: '0800' is not an octal mode such as 600 or 0640"},
    ]
    assert result == rq.ShmCreateRequest(0x49501234, 65536, 0o640, excl=True)


def test_shm_create_form_ftok_and_private_by_keyboard(tmp_path):
    errors: list[dict[str, str]] = []

    async def ftok(pilot, form):  # type: ignore[no-untyped-def]
        form.query_one("#choice-key-kind", RadioSet).focus()
        await pilot.press("down", "enter")  # the second choice: ftok
        await pilot.pause()
        assert form.query_one("#input-key", Input).disabled
        fill(form, ftok_path="/no/such/file", ftok_project_id="A")
        await submit(pilot, form, "ftok-path")
        errors.append(form.shown_errors())
        fill(form, ftok_path=str(tmp_path))
        await submit(pilot, form, "ftok-path")

    result = drive(ShmCreateForm(LIMITS), ftok)
    assert errors == [{"ftok-path": "ftok path: '/no/such/file' cannot be used: no such file or directory"}]
    st = os.stat(tmp_path)
    assert result.key == (ord("A") << 24) | ((st.st_dev & 0xFF) << 16) | (st.st_ino & 0xFFFF)

    async def private(pilot, form):  # type: ignore[no-untyped-def]
        form.query_one("#choice-key-kind", RadioSet).focus()
        await pilot.press("down", "down", "enter")
        form.query_one("#check-excl").value = True  # meaningless for a private segment
        await submit(pilot, form, "size")

    assert drive(ShmCreateForm(LIMITS), private) == rq.ShmCreateRequest(0, 4096, 0o600, excl=False)


def test_escape_and_cancel_dismiss_with_none():
    async def escape(pilot, form):  # type: ignore[no-untyped-def]
        await pilot.press("escape")

    async def cancel(pilot, form):  # type: ignore[no-untyped-def]
        await pilot.click("#cancel")

    assert drive_many((MsgCreateForm(), escape), (SemSetForm(1, 2), cancel)) == [None, None]


def test_confirm_screen_keys():
    def pressing(*keys: str):  # type: ignore[no-untyped-def]
        async def press(pilot, screen):  # type: ignore[no-untyped-def]
            await pilot.press(*keys)

        return press

    steps = [(ConfirmScreen("Remove queue 3?"), pressing(key)) for key in ("y", "enter", "n", "escape")]
    assert drive_many(*steps) == [True, True, False, False]


def test_write_chmod_and_message_forms_check_their_fields():
    async def write(pilot, form):  # type: ignore[no-untyped-def]
        fill(form, text="0123456789", offset="10")
        await submit(pilot, form, "text")
        assert form.shown_errors() == {
            "text": "text: 10 bytes at offset 10 would run past the end of the 16-byte segment"
        }
        fill(form, offset="6")
        await submit(pilot, form, "text")


    async def chmod(pilot, form):  # type: ignore[no-untyped-def]
        await submit(pilot, form, "mode")
        assert form.shown_errors() == {"form": "mode or owner: neither was changed"}
        fill(form, owner="nobody")
        await submit(pilot, form, "owner")


    async def send(pilot, form):  # type: ignore[no-untyped-def]
        fill(form, type="0", text="x" * 17)
        await submit(pilot, form, "type")
        assert form.shown_errors() == {"type": "type: '0' is not above 0; a message's type must be positive"}
        fill(form, type="3")
        await submit(pilot, form, "text")
        assert form.shown_errors() == {"text": "text: the message is 17 bytes, more than msgmax (16)"}
        fill(form, text="hello")
        form.query_one("#choice-wait", RadioSet).focus()
        await pilot.press("down", "enter")
        await submit(pilot, form, "text")


    async def receive(pilot, form):  # type: ignore[no-untyped-def]
        shown = " ".join(str(w.content) for w in form.query(".hint"))
        assert "Type N < 0: the first message of the lowest type that is <= |N|." in shown
        fill(form, type="-3")
        await submit(pilot, form)

    assert drive_many(
        (WriteForm(5, 16), write), (ChmodChownForm(5, 0o600, "root:root"), chmod),
        (MsgSendForm(7, msgmax=16), send), (MsgReceiveForm(7), receive),
    ) == [
        rq.WriteRequest(5, 6, b"0123456789"), rq.ShmSetRequest(5, 0o600, 65534, None),
        rq.MsgSendRequest(7, 3, b"hello", nowait=True), rq.MsgReceiveRequest(7, -3, nowait=False),
    ]


def test_semaphore_and_kill_forms():
    async def create(pilot, form):  # type: ignore[no-untyped-def]
        fill(form, key="0x49501111", semaphores="3", values="1,2")
        await submit(pilot, form, "values")
        assert form.shown_errors() == {"values": "values: 2 values for 3 semaphores; give one value per semaphore"}
        fill(form, semaphores="5")
        await submit(pilot, form, "values")
        assert form.shown_errors() == {"semaphores": "semaphores: '5' is outside 1..4, the range of semaphores "
                                       "in a set (1..semmsl)"}
        fill(form, semaphores="2", values="")
        await submit(pilot, form, "values")


    async def op(pilot, form):  # type: ignore[no-untyped-def]
        fill(form, index="2", delta="+40000")
        await submit(pilot, form, "index")
        assert set(form.shown_errors()) == {"index"}
        fill(form, index="1")
        await submit(pilot, form, "delta")
        assert set(form.shown_errors()) == {"delta"}
        fill(form, delta="+2")
        await submit(pilot, form, "delta")


    async def set_value(pilot, form):  # type: ignore[no-untyped-def]
        fill(form, value="32768")
        await submit(pilot, form, "value")
        assert form.shown_errors() == {"value": "value: '32768' is outside 0..32767, the range of semaphore values "
                                       "(0..SEMVMX)"}
        fill(form, value="7")
        await submit(pilot, form, "value")


    async def default_term(pilot, form):  # type: ignore[no-untyped-def]
        await pilot.click("#ok")


    async def choose_kill(pilot, form):  # type: ignore[no-untyped-def]
        form.query_one("#choice-signal", RadioSet).focus()
        await pilot.press("down", "down", "down", "down", "enter")  # Enter picks KILL and submits

    assert drive_many(
        (SemCreateForm(LIMITS), create), (SemOpForm(9, 2), op), (SemSetForm(9, 2, index=1), set_value),
        (KillForm(42, "sleep"), default_term), (KillForm(42), choose_kill),
    ) == [
        rq.SemCreateRequest(0x49501111, (0, 0), 0o600, excl=False), rq.SemOpRequest(9, 1, 2, nowait=False),
        rq.SemSetRequest(9, 1, 7), rq.KillRequest(42, signal.SIGTERM), rq.KillRequest(42, signal.SIGKILL),
    ]


def test_enter_submits_a_form_of_choices_only_with_the_choice_under_the_cursor():
    async def enter_at_once(pilot, form):  # type: ignore[no-untyped-def]
        assert isinstance(form.focused, RadioSet)  # the choices have the focus when the form opens
        await pilot.press("enter")

    async def down_then_enter(pilot, form):  # type: ignore[no-untyped-def]
        await pilot.press("down", "enter")

    async def up_down_up_then_enter(pilot, form):  # type: ignore[no-untyped-def]
        await pilot.press("down", "up", "enter")  # back on the choice already picked

    async def enter_on_a_choice_among_inputs(pilot, form):  # type: ignore[no-untyped-def]
        choice = form.query_one("#choice-wait", RadioSet)
        choice.focus()
        await pilot.press("down", "enter")  # picks IPC_NOWAIT; the form stays open for its inputs
        await pilot.pause()
        assert choice.pressed_index == 1 and form.is_active
        await submit(pilot, form, "delta")

    assert drive_many(
        (KillForm(42), enter_at_once), (KillForm(42), down_then_enter), (AttachForm(7), down_then_enter),
        (AttachForm(7), up_down_up_then_enter), (SemOpForm(9, 2), enter_on_a_choice_among_inputs),
    ) == [
        rq.KillRequest(42, signal.SIGTERM), rq.KillRequest(42, signal.SIGINT), rq.AttachRequest(7, readonly=True),
        rq.AttachRequest(7, readonly=False), rq.SemOpRequest(9, 0, -1, nowait=True),
    ]


def test_segment_flow_create_attach_write_read_detach_remove(ipc_key):
    key = ipc_key()
    holdings = Holdings()
    shown: list[str] = []

    async def create(pilot, form):  # type: ignore[no-untyped-def]
        fill(form, key=hex(key), size="256", mode="640")
        await submit(pilot, form, "size")

    request = drive(ShmCreateForm(), create)
    shmid = operations.perform(request, holdings).result.ident
    try:
        async def attach(pilot, form):  # type: ignore[no-untyped-def]
            await pilot.click("#ok")

        operations.perform(drive(AttachForm(shmid), attach), holdings)
        assert [line.split()[1] for line in maps_mention(os.getpid(), shmid)] == ["rw-s"]
        seen = take_snapshot().shm[shmid]
        assert [a.pid for a in seen.attachers] == [os.getpid()] and seen.nattch == 1

        async def write(pilot, form):  # type: ignore[no-untyped-def]
            fill(form, text="hello from the form", offset="16")
            await submit(pilot, form, "text")

        operations.perform(drive(WriteForm(shmid, 256), write), holdings)
        contents = holdings.read(shmid)
        assert contents[16:35] == b"hello from the form"
        assert hexdump(contents[16:32], 16) == "00000010: 6865 6c6c 6f20 6672 6f6d 2074 6865 2066  hello from the f"
        operations.perform(rq.DetachRequest(shmid), holdings)
        assert sysv.shm_stat(shmid).nattch == 0

        text = shm_remove_text(take_snapshot().shm[shmid])

        async def confirm(pilot, screen):  # type: ignore[no-untyped-def]
            shown.append(str(screen.query_one("#question").content))
            await pilot.press("y")

        assert drive(ConfirmScreen(text), confirm) is True
        operations.perform(rq.RemoveRequest("shm", shmid), holdings)
        assert shown == [f"Remove segment {shmid} (key {key:#010x}, 256B)? It is destroyed at once with its contents."]
        assert sysvipc_row("shm", shmid) is None
    finally:
        holdings.release_all()
        if sysvipc_row("shm", shmid) is not None:
            sysv.shm_remove(shmid)


def test_removing_an_attached_segment_marks_it_until_its_holder_exits(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        holder = holders.spawn("shm-attach", shmid)
        text = shm_remove_text(take_snapshot().shm[shmid])
        assert f"[{holder.pid}]" in text and "only marks it" in text and "goes away when" in text

        async def confirm(pilot, screen):  # type: ignore[no-untyped-def]
            await pilot.press("enter")

        assert drive(ConfirmScreen(text), confirm) is True
        operations.perform(rq.RemoveRequest("shm", shmid), Holdings())
        after = take_snapshot().shm[shmid]
        assert after.marked_for_removal and after.key == 0 and after.display_key != 0
        holders.end(holder)
        wait_until(lambda: sysvipc_row("shm", shmid) is None)
    finally:
        if sysvipc_row("shm", shmid) is not None:
            sysv.shm_remove(shmid)


def test_queue_and_semaphore_flows(ipc_key, holders):
    holdings = Holdings()
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    semid = sysv.semget(ipc_key(), 2, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        for mtype, text in (("4", "four"), ("2", "two")):
            async def send(pilot, form, mtype=mtype, text=text):  # type: ignore[no-untyped-def]
                fill(form, type=mtype, text=text)
                await submit(pilot, form, "text")

            operations.perform(drive(MsgSendForm(msqid), send), holdings)

        async def receive(pilot, form):  # type: ignore[no-untyped-def]
            fill(form, type="-5")
            await submit(pilot, form)

        outcome = operations.perform(drive(MsgReceiveForm(msqid), receive), holdings)
        assert outcome.result == operations.Received(2, b"two")

        waiter = holders.spawn("sem-wait", semid, 1, -1)
        wait_until(lambda: sysv.sem_get(semid, 1, sysv.GETNCNT) == 1)

        async def op(pilot, form):  # type: ignore[no-untyped-def]
            fill(form, index="1", delta="1")
            await submit(pilot, form, "delta")

        operations.perform(drive(SemOpForm(semid, 2), op), holdings)
        wait_until(lambda: "sem" not in wchan(waiter.pid))
        assert sysv.sem_get(semid, 1, sysv.GETNCNT) == 0
        holders.end(waiter)
    finally:
        sysv.msg_remove(msqid)
        sysv.sem_remove(semid)
