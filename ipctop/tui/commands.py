"""The command palette (ctrl+p) lists every action of the registry usable where it was opened."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ipctop.tui import registry
from ipctop.tui.help_text import key_label
from ipctop.tui.interfaces import ActionScreen


class ActionCommands(Provider):
    def _usable(self) -> list[tuple[str, registry.ActionSpec]]:
        main = self.screen
        if not isinstance(main, ActionScreen):  # the palette opened over a dialog or the detail
            return []
        found = []
        for spec in registry.all_actions():
            if main.check_action("do", (spec.id,)):
                keys = key_label(spec)
                found.append((f"{spec.description} ({keys})" if spec.keys else spec.description, spec))
        return found

    def _run(self, main: ActionScreen, action_id: str) -> None:
        self.screen.run_worker(main.run_registered(action_id), exclusive=False)

    async def discover(self) -> Hits:
        for title, spec in self._usable():
            yield DiscoveryHit(title, partial(self._run, self.screen, spec.id), help=spec.help or None)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, spec in self._usable():
            score = max(matcher.match(title), matcher.match(spec.help) * 0.8 if spec.help else 0)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, self.screen, spec.id),  # type: ignore[arg-type]
                          text=title, help=spec.help or None)  # fmt: skip
