"""The probe matrix: every address of every MX host, probed at once, one table row each.

The core (`mxtui.probe`) does the probing and reports each result as it finishes; this screen
only draws them. Rows exist from the start (one per address, in the plan's order, so the table is
grouped by preference and host and never jumps), and each fills in when its result arrives, so a
black-holed address shows "…" while the others are already readable.

Every cell is a `rich.text.Text` made from printable text: a greeting such as ``220 [/]`` or an
escape sequence in a certificate subject is shown, never obeyed (DataTable reads plain `str`
cells as markup).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from mxtui.model import MXPlan, TryTarget
from mxtui.probe import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
    PROBE_EHLO_NAME,
    ProbeReport,
    ProbeResult,
    probe,
)
from mxtui.smtp.dialer import Dialer
from mxtui.text import elapsed_text, printable
from mxtui.tlspolicy.model import TlsPolicy
from mxtui.ui.footer import Footer

# ---- cells: pure functions from a result to the words in its row ---------------------------

REACH_YES, REACH_NO, REACH_WAIT = "✓ yes", "✗ no", "… wait"


def reach_cell(result: ProbeResult | None) -> str:
    """A mark and a word, so the cell reads the same without colour (NO_COLOR)."""
    if result is None:
        return REACH_WAIT
    return REACH_YES if result.reachable else REACH_NO


def greeting_cell(result: ProbeResult | None) -> str:
    if result is None or result.greeting is None:
        return "" if result is None else "-"
    return printable(result.greeting.first_line())  # with its enhanced code, as the CLI


def _size(value: str) -> str:
    """SIZE 10000000 → SIZE 10M: the limit at a glance."""
    try:
        number = int(value)
    except ValueError:
        return printable(value)
    for unit, scale in (("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if number >= scale:
            return f"{number / scale:.3g}{unit}"
    return str(number)


# The extensions a sender's choices hang on come first, so a cut cell still shows them.
FIRST_EXTENSIONS = ("STARTTLS", "SIZE", "8BITMIME", "PIPELINING", "SMTPUTF8", "CHUNKING")


def extensions_cell(result: ProbeResult | None) -> str:
    """The EHLO keywords only (their parameters are in the details), SIZE with its limit,
    the ones that change what a sender does first."""
    if result is None:
        return ""
    words: list[tuple[int, str]] = []
    for extension in result.extensions:
        keyword, _, value = extension.partition(" ")
        upper = keyword.upper()
        rank = FIRST_EXTENSIONS.index(upper) if upper in FIRST_EXTENSIONS else len(FIRST_EXTENSIONS)
        if upper == "SIZE" and value:
            words.append((rank, f"SIZE {_size(value)}"))
        else:
            words.append((rank, printable(keyword)))
    words.sort(key=lambda pair: pair[0])  # stable: the rest keep the server's order
    return " ".join(word for _, word in words) if words else "-"


def tls_cell(result: ProbeResult | None) -> str:
    """Version, whether the certificate verifies for the MX name (ok/bad), its expiry date."""
    if result is None:
        return ""
    tls = result.tls
    if tls is not None:
        version = tls.version.removeprefix("TLSv")
        verdict = "✓ ok" if tls.verified else "✗ bad"
        expiry = tls.not_after.split(" ")[0] if tls.not_after else ""
        return printable(f"{version} {verdict} {expiry}".rstrip())
    if any(e.split(" ")[0].upper() == "STARTTLS" for e in result.extensions):
        return "✗ STARTTLS failed"
    if result.reachable and result.extensions:
        return "not offered"
    return "-"


def policy_cell(result: ProbeResult | None) -> str:
    """What the TLS policy made of the address's STARTTLS: "DANE ok", "STS FAIL (not listed)"."""
    if result is None:
        return ""
    return printable(result.policy.summary) if result.policy is not None else "-"


def ms_cell(result: ProbeResult | None) -> str:
    return "" if result is None else f"{result.ms:.0f}"


def error_cell(result: ProbeResult | None) -> str:
    """The error's first line without a trailing "(…)" of OS detail (the details keep it)."""
    if result is None or not result.error:
        return ""
    line = result.error.splitlines()[0]
    if line.endswith(")") and " (" in line:
        line = line[: line.index(" (")]
    return printable(line)


@dataclass(frozen=True)
class Column:
    """A table column: `least` and `most` bound its width; spare room goes in `order`."""

    key: str
    label: str
    least: int
    most: int


COLUMNS: tuple[Column, ...] = (
    Column("host", "Pref Host", 9, 32),
    Column("address", "Address", 11, 26),
    Column("reach", "Up", 6, 6),
    Column("ms", "ms", 4, 6),
    Column("tls", "TLS", 9, 30),
    Column("policy", "Policy", 8, 28),
    Column("greeting", "Greeting", 8, 44),
    Column("extensions", "EHLO", 6, 48),
    Column("error", "Error", 6, 60),
)
# Who gets spare room first, and up to how much: names and the error before the long texts,
# then every text column to its most.
SPARE_ORDER: tuple[tuple[str, int], ...] = (
    ("host", 18),
    ("address", 15),
    ("tls", 12),
    ("policy", 22),
    ("greeting", 20),
    ("error", 16),
    ("host", 24),
    ("address", 26),
    ("tls", 20),
    ("extensions", 20),
    ("greeting", 30),
    ("error", 30),
    ("extensions", 30),
    ("host", 32),
    ("tls", 30),
    ("greeting", 44),
    ("extensions", 48),
    ("error", 60),
)
CELL_PADDING = 1  # DataTable's default: one cell each side of every column
SCROLLBAR = 2
HIDE_BELOW = {"extensions": 130, "error": 120}
"""Below these widths the EHLO and error columns go (the details always have them); without the
error column an address with no greeting shows its error in the greeting column instead."""


def column_widths(
    total: int, cells: Sequence[dict[str, str]], *, policy: bool = False
) -> dict[str, int]:
    """Fit the columns into `total` terminal cells: each gets its least width, then what it
    needs of the rest (up to `most`), the important ones first. Below the sum of the least
    widths the table scrolls sideways instead of cutting columns to nothing. A column left
    out (see `HIDE_BELOW`) has no key in the result; the policy column is there only with
    `policy` (a domain with a TLS policy to check)."""
    columns = [
        c for c in COLUMNS if total >= HIDE_BELOW.get(c.key, 0) and (policy or c.key != "policy")
    ]
    needed = {
        c.key: max([len(c.label), *(len(row.get(c.key, "")) for row in cells)]) for c in columns
    }
    widths = {c.key: c.least for c in columns}
    spare = total - SCROLLBAR - 2 * CELL_PADDING * len(columns) - sum(widths.values())
    limits = {c.key: c.most for c in columns}
    steps = [("reach", limits["reach"]), ("ms", limits["ms"])]
    for key, cap in (*steps, *SPARE_ORDER):
        if spare <= 0:
            break
        if key not in widths:
            continue
        grow = min(spare, max(0, min(needed[key], cap, limits[key]) - widths[key]))
        widths[key] += grow
        spare -= grow
    return widths


def cut(value: str, width: int, *, middle: bool = False, words: bool = False) -> str:
    """Cut to the column with a visible marker, so a cut greeting never looks complete.
    `middle` keeps both ends (an IPv6 address differs in its last groups); `words` drops
    whole words from the end first (the TLS cell's date goes, "1.3 ✗ bad" stays whole)."""
    if width <= 0:
        return ""
    if len(value) <= width:
        return value
    if words and " " in value:
        shorter = value.rsplit(" ", 1)[0]
        marked = shorter + "…"
        return marked if len(marked) <= width else cut(shorter, width, words=True)
    if middle and width >= 5:
        tail = (width - 1) // 2
        return value[: width - 1 - tail] + "…" + value[-tail:]
    return value[: width - 1] + "…"


def row_cells(
    target: TryTarget, result: ProbeResult | None, first_of: set[str], pref_width: int = 2
) -> dict[str, str]:
    """The words of one row; `first_of` says whether this row is the first of its preference
    and of its host (the rest leave them blank, so the table reads as groups)."""
    pref = str(target.preference) if "pref" in first_of else ""
    host = printable(target.host) if "host" in first_of else ""
    return {
        "host": f"{pref:>{pref_width}} {host}".rstrip() if host or pref else "",
        "address": printable(target.address),
        "reach": reach_cell(result),
        "ms": ms_cell(result),
        "tls": tls_cell(result),
        "policy": policy_cell(result),
        "greeting": greeting_cell(result),
        "extensions": extensions_cell(result),
        "error": error_cell(result),
    }


def summary_text(
    targets: Sequence[TryTarget],
    results: Sequence[ProbeResult | None],
    elapsed_s: float,
    running: bool,
) -> str:
    """N addresses, reachable k, TLS k, the slowest, elapsed: the matrix in one line."""
    done = [r for r in results if r is not None]
    parts = [f"{len(targets)} address{'es' if len(targets) != 1 else ''}"]
    if running:
        parts.append(f"probing: {len(done)} done")
    parts.append(f"reachable {sum(1 for r in done if r.reachable)}")
    parts.append(f"TLS {sum(1 for r in done if r.tls is not None)}")
    if done:
        slowest = max(done, key=lambda r: r.ms)
        parts.append(f"slowest {printable(slowest.address)} {slowest.ms:.0f} ms")
    parts.append(f"elapsed {elapsed_text(elapsed_s * 1000)}")
    return " · ".join(parts)


def detail_text(target: TryTarget, result: ProbeResult | None) -> Text:
    """Everything one address showed, untruncated: greeting lines, every extension, the
    certificate, the error, and the commands sent (never a MAIL)."""
    out = Text(no_wrap=False, end="")
    out.append(printable(target.host), style="bold")
    out.append(f" [{printable(target.address)}]  preference {target.preference}")
    if result is None:
        out.append("\nprobing…", style="italic")
        return out
    if result.reachable:
        out.append(f"\n✓ reachable: greeted in {result.ms:.0f} ms", style="bold")
    else:
        out.append(f"\n✗ not reachable ({result.ms:.0f} ms)", style="bold")
    out.append(f"; whole probe {result.total_ms:.0f} ms")
    if result.error:
        out.append("\nError: ", style="bold")
        out.append(" / ".join(printable(line) for line in result.error.splitlines()))
    out.append("\nGreeting:", style="bold")
    if result.greeting is None:
        out.append(" none")
    else:
        lines = result.greeting.lines or (f"{result.greeting.code} {result.greeting.text}",)
        for line in lines:
            out.append("\n  " + printable(line))
    out.append("\nEHLO extensions:", style="bold")
    if result.extensions:
        for extension in result.extensions:
            out.append("\n  " + printable(extension))
    else:
        out.append(" none")
    out.append("\nTLS:", style="bold")
    if result.tls is None:
        out.append(" " + tls_cell(result))
    else:
        for line in result.tls.lines():
            out.append("\n  " + printable(line))
    if result.policy is not None and result.policy.summary != "-":
        from mxtui.tlspolicy.describe import policy_detail

        out.append("\nTLS policy:", style="bold")
        for line in policy_detail(result.policy):
            out.append("\n  " + printable(line))
    if result.commands:
        out.append("\nSent: ", style="bold")
        out.append(", ".join(printable(c) for c in result.commands))
    return out


# ---- the screen ---------------------------------------------------------------------------


class ProbeScreen(ModalScreen[None]):
    """The probe matrix of one MX plan. Modal, so the app's keys wait while it is open."""

    DEFAULT_CSS = """
    ProbeScreen { background: $background; }
    ProbeScreen > Vertical { width: 1fr; height: 1fr; }
    ProbeScreen #probe-title { height: auto; padding: 0 1; background: $panel; }
    ProbeScreen #probe-table { height: 1fr; min-height: 4; }
    ProbeScreen #probe-detail {
        height: 1fr; min-height: 6; display: none;
        border-top: solid $accent; padding: 0 1;
    }
    ProbeScreen.-detail #probe-detail { display: block; }
    ProbeScreen.-detail #probe-table { height: auto; max-height: 50%; }
    ProbeScreen #probe-summary { height: auto; padding: 0 1; background: $boost; }
    ProbeScreen #probe-empty { height: 1fr; padding: 1 2; display: none; }
    ProbeScreen.-empty #probe-empty { display: block; }
    ProbeScreen.-empty #probe-table { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="probe-close"),
        Binding("r", "reprobe", "Probe again", id="probe-again"),
        Binding("d", "toggle_detail", "Details", id="probe-detail"),
    ]

    class ResultArrived(Message):
        """One address's result, tagged with the run it belongs to."""

        def __init__(self, run: int, result: ProbeResult) -> None:
            super().__init__()
            self.run = run
            self.result = result

    class Finished(Message):
        """Every address has answered (or timed out)."""

        def __init__(self, run: int, report: ProbeReport) -> None:
            super().__init__()
            self.run = run
            self.report = report

    def __init__(
        self,
        plan: MXPlan | None,
        dialer: Dialer,
        *,
        port: int | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        concurrency: int = DEFAULT_CONCURRENCY,
        ehlo_name: str = PROBE_EHLO_NAME,
        tls_policy: TlsPolicy | None = None,
        trust_pem: bytes | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.tls_policy = tls_policy
        """The plan's TLS policy: each row is checked against it (the Policy column)."""
        self.trust_pem = trust_pem
        self.dialer = dialer
        self.port = port
        self.timeout = timeout
        self.concurrency = concurrency
        self.ehlo_name = ehlo_name
        self.targets: tuple[TryTarget, ...] = plan.targets if plan else ()
        self.results: list[ProbeResult | None] = [None] * len(self.targets)
        self.report: ProbeReport | None = None
        self.running = False
        self.detail_row: int | None = None
        self._run = 0
        self._started = 0.0
        self._elapsed = 0.0
        self._widths: dict[str, int] = {}
        self._ticker: Timer | None = None
        self._slots: dict[TryTarget, list[int]] = {}
        self._first: list[set[str]] = []
        self._pref_width = 1

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title(), id="probe-title")
            yield Static(id="probe-empty")
            table: DataTable[Text] = DataTable(id="probe-table", cursor_type="row")
            yield table
            with VerticalScroll(id="probe-detail"):
                yield Static(id="probe-detail-text")
            yield Static(id="probe-summary")
        yield Footer()

    def _title(self) -> Text:
        domain = ""
        if self.plan is not None:
            domain = self.plan.display_domain or self.plan.domain
        title = Text("Probe of ", style="bold", end="")
        title.append(printable(domain) or "(no domain)", style="bold")
        title.append(
            " — connect, greeting, EHLO, STARTTLS, QUIT on every address; no MAIL is sent. "
            "Enter: details",
        )
        return title

    def on_mount(self) -> None:
        if not self.targets:
            self._show_empty()
            return
        self.query_one(DataTable).focus()
        self.action_reprobe()

    def _show_empty(self) -> None:
        self.add_class("-empty")
        if self.plan is None:
            message = "Nothing to probe yet: resolve a domain first, then open the probe again."
        else:
            domain = printable(self.plan.display_domain or self.plan.domain)
            message = (
                f"Nothing to probe for {domain}: the MX lookup gave no address "
                f"(DNS status: {self.plan.status})."
            )
            missing = [printable(h.name) for h in self.plan.hosts if not h.addresses]
            if missing:
                message += f"\nMX hosts with no address: {', '.join(missing)}"
        self.query_one("#probe-empty", Static).update(Text(message))
        self.query_one("#probe-summary", Static).update(Text("0 addresses"))

    # ---- probing -------------------------------------------------------------------------

    def action_reprobe(self) -> None:
        """r: probe every address again (a run still going is cancelled first)."""
        if not self.targets:
            return
        self._run += 1
        self.results = [None] * len(self.targets)
        self._slots = {}
        for index, target in enumerate(self.targets):
            self._slots.setdefault(target, []).append(index)
        self.report = None
        self.running = True
        self._started = time.perf_counter()
        self._elapsed = 0.0
        self._rebuild(force=True)
        self._show_detail_again()
        if self._ticker is None:
            self._ticker = self.set_interval(0.25, self._tick)
        self._probe(self._run)

    @work(exclusive=True, group="probe", exit_on_error=False)
    async def _probe(self, run: int) -> None:
        assert self.plan is not None
        report = await probe(
            self.plan,
            self.dialer,
            port=self.port,
            timeout=self.timeout,
            concurrency=self.concurrency,
            ehlo_name=self.ehlo_name,
            on_result=lambda result: self.post_message(self.ResultArrived(run, result)),
            tls_policy=self.tls_policy,
            trust_pem=self.trust_pem,
        )
        self.post_message(self.Finished(run, report))

    def on_probe_screen_result_arrived(self, message: ProbeScreen.ResultArrived) -> None:
        if message.run != self._run:
            return  # a newer run replaced this one
        slots = self._slots.get(message.result.target, [])
        free = [i for i in slots if self.results[i] is None]
        if not free:
            return
        index = free[0]
        self.results[index] = message.result
        self._update_row(index)
        if index == self.detail_row:
            self._show_detail_again()
        self._update_summary()

    def on_probe_screen_finished(self, message: ProbeScreen.Finished) -> None:
        if message.run != self._run:
            return
        self.report = message.report
        # The report is in plan order and complete; it is the truth if a callback was missed.
        for index, result in enumerate(message.report.results):
            if self.results[index] is None:
                self.results[index] = result
                self._update_row(index)
        self._stop_running(message.report.elapsed_ms / 1000.0)
        self._show_detail_again()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "probe" or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        self._stop_running(time.perf_counter() - self._started)
        self.query_one("#probe-summary", Static).update(
            Text(f"The probe failed: {type(error).__name__}: {printable(str(error))}")
        )

    def _stop_running(self, elapsed_s: float) -> None:
        self.running = False
        self._elapsed = elapsed_s
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self._update_summary()

    def _tick(self) -> None:
        if self.running:
            self._elapsed = time.perf_counter() - self._started
            self._update_summary()

    def _update_summary(self) -> None:
        line = summary_text(self.targets, self.results, self._elapsed, self.running)
        if self.plan is not None:
            missing = [printable(h.name) for h in self.plan.hosts if not h.addresses]
            if missing:
                line += f" · no address: {', '.join(missing)}"
        self.query_one("#probe-summary", Static).update(Text(line))

    # ---- the table -----------------------------------------------------------------------

    def _groups(self) -> list[set[str]]:
        """Per row: is it the first of its preference ("pref") and of its host ("host")?"""
        if len(self._first) != len(self.targets):
            seen_pref: set[int] = set()
            last_host: tuple[int, str] | None = None
            self._first = []
            self._pref_width = max((len(str(t.preference)) for t in self.targets), default=1)
            for target in self.targets:
                first: set[str] = set()
                if target.preference not in seen_pref:
                    seen_pref.add(target.preference)
                    first.add("pref")
                if (target.preference, target.host) != last_host:
                    last_host = (target.preference, target.host)
                    first.add("host")
                self._first.append(first)
        return self._first

    def row(self, index: int) -> dict[str, str]:
        """Row `index`'s words before they are cut to the columns (by column key)."""
        groups = self._groups()
        return row_cells(self.targets[index], self.results[index], groups[index], self._pref_width)

    def cells(self) -> list[dict[str, str]]:
        """Every row's words before they are cut to the columns (by column key)."""
        return [self.row(index) for index in range(len(self.targets))]

    def _rebuild(self, *, force: bool = False) -> None:
        """Lay the table out again for this width (on mount, resize and a new run)."""
        cells = self.cells()
        widths = column_widths(
            self.size.width or self.app.size.width, cells, policy=self._policy_column()
        )
        if not force and widths == self._widths:
            return
        self._widths = widths
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        for column in self._shown():
            table.add_column(column.label, width=widths[column.key], key=column.key)
        for index, row in enumerate(cells):
            table.add_row(*self._texts(row), key=str(index))
        if self.targets:
            table.move_cursor(row=min(cursor, len(self.targets) - 1))

    def _policy_column(self) -> bool:
        """A Policy column only where there is a policy to check (MTA-STS, TLSA)."""
        from mxtui.tlspolicy.describe import policy_worth_showing

        return self.tls_policy is not None and policy_worth_showing(self.tls_policy)

    def _shown(self) -> list[Column]:
        return [c for c in COLUMNS if c.key in self._widths]

    def _texts(self, row: dict[str, str]) -> list[Text]:
        texts = []
        for column in self._shown():
            value = row[column.key]
            style = ""
            if column.key == "reach":
                style = {REACH_YES: "bold green", REACH_NO: "bold red"}.get(row["reach"], "dim")
            elif column.key == "policy":
                failed = "FAIL" in value or "bogus" in value
                style = "bold red" if failed else ("green" if " ok" in value else "dim")
            elif column.key == "error" or (
                column.key == "greeting"
                and value in ("", "-")
                and row["error"]
                and "error" not in self._widths
            ):
                value, style = row["error"], "red"
            key = column.key
            value = cut(value, self._widths[key], middle=key == "address", words=key == "tls")
            texts.append(Text(value, style=style, no_wrap=True, end=""))
        return texts

    def _update_row(self, index: int) -> None:
        table = self.query_one(DataTable)
        row = self.row(index)
        if any(
            len(row[c.key]) > self._widths[c.key] and self._widths[c.key] < c.most
            for c in self._shown()
        ):
            # Room may be spare for this longer cell: lay out again (cheap: rows are few).
            before = dict(self._widths)
            self._rebuild()
            if self._widths != before:
                return
        for column, text in zip(self._shown(), self._texts(row), strict=True):
            table.update_cell(str(index), column.key, text)

    def on_resize(self) -> None:
        if self.targets and self.is_mounted:
            self._rebuild()

    # ---- details -------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#probe-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.show_detail(event.cursor_row)

    @on(DataTable.RowHighlighted, "#probe-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.detail_row is not None:
            self.show_detail(event.cursor_row)

    def show_detail(self, index: int) -> None:
        """Open the detail panel on row `index` (it then follows the cursor)."""
        if not 0 <= index < len(self.targets):
            return
        self.detail_row = index
        self.add_class("-detail")
        self._show_detail_again()

    def _show_detail_again(self) -> None:
        if self.detail_row is None or self.detail_row >= len(self.targets):
            return
        self.query_one("#probe-detail-text", Static).update(
            detail_text(self.targets[self.detail_row], self.results[self.detail_row])
        )

    def action_toggle_detail(self) -> None:
        """d: show or hide the details of the row under the cursor."""
        if self.detail_row is not None:
            self.detail_row = None
            self.remove_class("-detail")
        elif self.targets:
            self.show_detail(self.query_one(DataTable).cursor_row)

    def action_close(self) -> None:
        self.workers.cancel_group(self, "probe")
        self.dismiss(None)
