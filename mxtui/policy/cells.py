"""One cell of the decision table: what one MTA does in one situation, and how we know.

The situations (rows) are shared and live in `mxtui.policy.table`; each MTA's cells live in its
own profile module (`mxtui.policy.profiles.*`). A cell carries its evidence: `T` tested against
the real program (with its version and the cases that showed it), `V` read in a source
(file:line or document section), `M` recalled, `I` inferred, `?` unknown.

Cell codes:
  NX      move on (next address / next MX); on the last address allowed → requeue
  NX>NDR  move on; on the last address allowed → bounce
  NX>RQ   move on; on the last address allowed → requeue
  RQ      requeue the message          NDR     bounce the message
  r-NX    this recipient moves on (then r-RQ)
  r-RQ    requeue this recipient       r-NDR   bounce this recipient
  C       continue                     H       retry with HELO
  DLV     delivered (continue)         IGN     QUIT: nothing changes
  PLAIN   continue without TLS         RECON   reconnect to the same address without TLS
  NA      the profile never sends this command
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from mxtui.model import Evidence, Proof, Stage

CELL_CODES = frozenset(
    {"NX", "NX>NDR", "NX>RQ", "RQ", "NDR", "r-NX", "r-RQ", "r-NDR", "C", "H", "DLV", "IGN",
     "PLAIN", "RECON", "NA"}
)  # fmt: skip

RowKey = tuple[Stage, str]
"""A situation: the stage and the outcome class ("4xx", "drop", "null-mx", …)."""


@dataclass(frozen=True)
class Cell:
    """What one profile does in one row, with its source and evidence mark.

    `alt` holds the cell that applies instead when a parameter has a given value, e.g. Postfix's
    greeting 5xx with smtp_skip_5xx_greeting=no. `tested_with` names the real program and
    version a `T` cell was tested against; `cases` the conformance cases that showed it.
    """

    code: str
    evidence: Evidence
    source: str
    note: str = ""
    alt: Mapping[tuple[str, object], Cell] = field(default_factory=dict)
    tested_with: str = ""
    cases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.code not in CELL_CODES:
            raise ValueError(f"unknown cell code {self.code!r}")
        if self.evidence is Evidence.TESTED and not self.tested_with:
            raise ValueError(f"a tested cell ({self.code}) must name what it was tested with")

    @property
    def proof(self) -> Proof:
        return Proof(self.evidence, self.source, self.tested_with, self.cases)

    def confirmed(self, tested_with: str, cases: tuple[str, ...] = ()) -> Cell:
        """This cell as proven by a run of the real program (what a conformance result fills
        in): kind `T`, the source kept, the version and the cases added, before the cell's own
        (`mxtui conformance --case ID` reruns the new ones; the own may be the reference's
        errata)."""
        known = tuple(dict.fromkeys((*cases, *self.cases)))
        return replace(self, evidence=Evidence.TESTED, tested_with=tested_with, cases=known)


def c(
    code: str,
    evidence: str,
    source: str,
    note: str = "",
    *,
    tested_with: str = "",
    cases: tuple[str, ...] = (),
    **alt: Cell,
) -> Cell:
    """Shorthand for a cell; `alt` keys are "param__value" (e.g. smtp_skip_5xx_greeting__no)."""
    alts: dict[tuple[str, object], Cell] = {}
    for key, cell in alt.items():
        name, _, value = key.partition("__")
        alts[(name, {"yes": True, "no": False}.get(value, value))] = cell
    return Cell(code, Evidence(evidence), source, note, MappingProxyType(alts), tested_with, cases)


S = Stage
"""Short name for the stages, so a profile module's cell list reads like the table."""
