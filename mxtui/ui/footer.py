"""The footer: Textual's, with each key made in the footer's compact state and no rebuild that
would draw the same keys again.

Textual's `FooterKey` starts compact and learns the footer's state from a data binding once it
is mounted: two class changes, so two restyles of the key and its parts, for every key, each
time the footer is rebuilt. And the footer is rebuilt (every key removed, made, styled and
mounted again) whenever the screen's bindings may have changed: at start and after every focus
change, most of which leave the same keys. With two dozen keys that was most of the app's
start-up work. Here a key is made in the state it ends in, so it is styled once, and a rebuild
is skipped when the keys it would make are the ones on screen (the same bindings, key labels,
enabled states and tooltips). It looks and behaves as before and follows later changes of
`compact` through the same binding.

Keys that do not fit whole are left out instead of cut: Textual draws them on one scrolling line
and cuts the last one visible mid-word ("p Pro▏" at 80 columns), with the rest out of sight. The
first key is `? Help` (keys.py), so the door to every key is on screen at any width, and what is
left out is in the help and the command palette.
"""

from __future__ import annotations

from functools import cached_property

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    """Textual's footer (bindings, key groups, the palette key) with keys born compact or not,
    rebuilt only when what it shows changes."""

    _drawn: tuple[object, ...] | None = None
    """What the keys on screen were made from (`_wanted()` at the last compose)."""

    @cached_property
    def _widths(self) -> dict[tuple[str, str, bool, bool], int]:
        """Each key's width on screen, margin included, once it has been laid out."""
        return {}

    def compose(self) -> ComposeResult:
        ready = getattr(self, "_bindings_ready", False)  # Textual's; absent: always rebuild
        self._drawn = self._wanted() if ready else None
        made = list(super().compose())
        for widget in made:
            if isinstance(widget, FooterKey) and _bound_to_compact(widget):
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
        yield from self._fitting(made)

    def _fitting(self, made: list[object]) -> list[object]:
        """The keys that fit whole by the widths seen so far (a key not seen yet is made, and
        left out after the layout if it does not fit): the others are never made at all."""
        room = self.size.width
        if not room:
            return made
        palette = [w for w in made if isinstance(w, FooterKey) and _is_palette(w)]
        used = sum(self._widths.get(_shape(k), 0) for k in palette)
        kept: list[object] = []
        for widget in (w for w in made if w not in palette):
            width = self._widths.get(_shape(widget)) if isinstance(widget, FooterKey) else None
            if width is not None and used + width > room:
                break
            used += width or 0
            kept.append(widget)
        return kept + palette  # Textual makes the palette key last

    async def recompose(self) -> None:
        if self._drawn is not None and self.is_attached and self._wanted() == self._drawn:
            return
        await super().recompose()
        self.call_after_refresh(self._leave_out_cut_keys)

    def on_resize(self) -> None:
        """The keys the new width holds: made again once the footer has its new size."""
        self._drawn = None
        self.call_after_refresh(self.recompose)

    def _keys(self) -> list[FooterKey]:
        return [k for k in self.query_children(FooterKey) if not _is_palette(k)]

    def _leave_out_cut_keys(self) -> None:
        """Learn each key's width; hide each key from the first that does not fit whole before
        the palette key (only keys whose width was not known yet can be there)."""
        if not self.is_attached:
            return
        edge = self.region.right
        for key in self.query_children(FooterKey):
            if key.region.width:
                self._widths[_shape(key)] = key.outer_size.width + key.styles.margin.right
            if _is_palette(key) and key.region.width:
                edge = min(edge, key.region.x)
        cut = False
        for key in self._keys():
            cut = cut or (key.region.width > 0 and key.region.right > edge)
            if cut and key.display:
                key.display = False

    def _wanted(self) -> tuple[object, ...]:
        """Everything Textual's `compose` reads to make the keys: the shown bindings with their
        key labels, enabled states and tooltips, and the palette key's."""
        app = self.app
        active = self.screen.active_bindings
        keys = tuple(
            (binding, app.get_key_display(binding), enabled, tooltip)
            for (_node, binding, enabled, tooltip) in active.values()
            if binding.show
        )
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        shown = self.show_command_palette and app.ENABLE_COMMAND_PALETTE and palette is not None
        return keys, palette[1:] if shown and palette is not None else None


def _is_palette(key: FooterKey) -> bool:
    return key.has_class("-command-palette")


def _shape(key: FooterKey) -> tuple[str, str, bool, bool]:
    """What a key's width follows: its label, description, compactness and kind."""
    return key.key_display, key.description, key.compact, _is_palette(key)


def _bound_to_compact(key: FooterKey) -> bool:
    """True for a key whose `compact` follows the footer's (not the palette key, which Textual
    leaves compact); False, leaving the key as Textual made it, if Textual keeps its data
    bindings elsewhere one day."""
    bindings = getattr(key, "_reactive_connect", None)
    return isinstance(bindings, dict) and "compact" in bindings
