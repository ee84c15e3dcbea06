"""Which columns give up their room on a narrow screen, over the busy made-up machine's pane 8: a column
no row has anything in goes first, then the Perms that yield to a cut name, state or holder list."""

from __future__ import annotations

from ipctop.tui.app import IpctopApp
from tests.support.fixture_evidence import FIXTURE_LEAK_FILTERS, fixture_evidence
from tests.support.fixture_world import WorldFeed
from tests.tui.helpers import cell_text, play_fixture, run_async, table, wait_for


@run_async
async def test_an_empty_status_and_the_perms_give_their_room_to_names_states_and_holders():
    for width, shown, left_out in (
        (100, {"name", "state", "held", "owner"}, {"status", "perms"}),
        (200, {"name", "state", "held", "owner", "status", "perms"}, set()),
    ):
        app = IpctopApp(WorldFeed(), interval=2.0, leak_evidence=fixture_evidence, leak_filters=FIXTURE_LEAK_FILTERS)
        async with app.run_test(size=(width, 30)) as pilot:
            await play_fixture(pilot)
            await pilot.press("8")
            posix = await wait_for(pilot, lambda app=app: table(app, "posix").shown_columns and table(app, "posix"))
            keys = set(posix.shown_keys)
            assert shown <= keys and not keys & left_out, (width, posix.shown_keys)
            widths = dict(zip(posix.shown_keys, (w for _, w in posix.shown_columns), strict=True))
            anon = next(k for k in posix.model.order if cell_text(app, "posix", k, "name") == "/dev/zero (deleted)")
            assert widths["name"] >= len("/dev/zero (deleted)"), (width, widths)
            assert cell_text(app, "posix", anon, "held") is not None
