"""The decision table as a reader checks it: one row per situation, one cell per profile.

The situations are shared (`mxtui.policy.rows`); each cell comes from its MTA's profile module
(`mxtui.policy.profiles.*`). This module puts them side by side, in the reference's layout
(section 3 of ../shared/reference/delivery-decisions.md), for the engine's row lookup, the
tests and anyone comparing MTAs. Cell codes and evidence marks: see `mxtui.policy.cells`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mxtui.model import Stage
from mxtui.policy.cells import CELL_CODES, Cell, RowKey, c
from mxtui.policy.profiles import PROFILES
from mxtui.policy.rows import SITUATIONS, Situation

PROFILE_KEYS = tuple(PROFILES)


@dataclass(frozen=True)
class Row:
    """One line of the table: the situation in plain words and what each profile does."""

    stage: Stage
    outcome: str
    label: str
    meaning: str
    cells: Mapping[str, Cell]
    default: Cell | None = None
    """The standard answer the profiles share unless their module says otherwise."""

    @property
    def key(self) -> RowKey:
        return (self.stage, self.outcome)


def _row(situation: Situation) -> Row:
    cells = MappingProxyType({name: p.cell(situation.key) for name, p in PROFILES.items()})
    return Row(situation.stage, situation.outcome, situation.label, situation.meaning, cells,
               situation.default)  # fmt: skip


ROWS: tuple[Row, ...] = tuple(_row(s) for s in SITUATIONS)

TABLE: Mapping[tuple[Stage, str], Row] = MappingProxyType({r.key: r for r in ROWS})

__all__ = ["CELL_CODES", "PROFILE_KEYS", "ROWS", "TABLE", "Cell", "Row", "c"]
