"""Forms say what they mean: a hint is never taken for a value, sentences are whole, counts agree."""

from __future__ import annotations

from textual.widgets import Input

from ipctop.actions.confirmations import sem_remove_text
from ipctop.tui.forms import AttachForm, MsgSendForm, SemOpForm, SemSetForm, ShmCreateForm
from tests.actions.test_forms import Host, submit
from tests.support.fixture_snapshot import fixture_snapshots
from tests.tui.helpers import run_async, screen_text


@run_async
async def test_an_empty_message_is_not_sent_and_hints_read_as_hints():
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        form = MsgSendForm(7, msgmax=16)
        app.push_screen(form, app.results.append)
        await pilot.pause()
        text = form.query_one("#input-text", Input)
        assert text.value == "" and text.placeholder == "the message to send"  # words, not a sample value
        await submit(pilot, form, "text")
        assert form.shown_errors() == {"text": "text: the message is empty; type the text to send"}
        assert app.results == []  # nothing sent
        app.pop_screen()
        create = ShmCreateForm()
        app.push_screen(create)
        await pilot.pause()
        placeholders = [i.placeholder for i in create.query(Input) if i.placeholder]
        assert all(not p[:1].isdigit() for p in placeholders), placeholders  # "e.g. 0x1234", not "0x1234"


@run_async
async def test_the_attach_sentence_is_whole_at_80_columns():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AttachForm(5, "key 0x49500001, 4K"))
        await pilot.pause()
        text = " ".join(screen_text(app).replace("│", " ").split())
        assert "ipctop attaches it and holds it (it shows as an attacher) until you detach or quit." in text


def test_one_semaphore_is_one_semaphore():
    assert SemOpForm(4, 1).form_title == "Operate on semaphore set 4 (1 semaphore)"
    assert SemSetForm(4, 2).form_title == "Set a value in semaphore set 4 (2 semaphores)"
    one = next(s for s in fixture_snapshots()[-1].sem.values() if s.nsems == 1)
    assert "1 semaphore)" in sem_remove_text(one)
