"""The probe matrix screen over the lab demo: rows per address, results as they arrive, details on
Enter, r probes again, hostile greetings stay literal, and it still reads at 80×24 (one app's
journey through them all: an app start costs more than most of the checks), then the cells'
words and widths as plain functions."""

from __future__ import annotations

from textual.widgets import DataTable, Static
from ui_support import drive, until, workers_settled

from mxtui.dns import resolve_mx
from mxtui.lab.hostile import MARKUP_PAYLOADS, HostileHost
from mxtui.model import (
    Address,
    HostState,
    MXGroup,
    MXHost,
    MXPlan,
    PlanStatus,
    Reply,
    TryTarget,
)
from mxtui.probe import ProbeResult
from mxtui.smtp import LabDialer
from mxtui.ui.factory import make_app
from mxtui.ui.probe_view import (
    CELL_PADDING,
    COLUMNS,
    REACH_NO,
    REACH_WAIT,
    REACH_YES,
    SCROLLBAR,
    ProbeScreen,
    column_widths,
    cut,
    extensions_cell,
    greeting_cell,
    reach_cell,
    summary_text,
)


def plan_of(*addresses: str, host: str = "mx.probe.test", preference: int = 10) -> MXPlan:
    mx = MXHost(
        host,
        preference,
        tuple(Address(a, 6 if ":" in a else 4) for a in addresses),
        state=HostState.RESOLVED,
    )
    return MXPlan("probe.test", PlanStatus.MX, (MXGroup(preference, (mx,)),))


def row_of(screen: ProbeScreen, address: str) -> dict[str, str]:
    """The row's cells as plain strings, by column key."""
    table = screen.query_one(DataTable)
    index = next(i for i, t in enumerate(screen.targets) if t.address == address)
    cells = table.get_row(str(index))
    keys = [column.key.value for column in table.ordered_columns]
    return {key: cell.plain for key, cell in zip(keys, cells, strict=True)}


def full_row(screen: ProbeScreen, address: str) -> dict[str, str]:
    """The row's words before they were cut to the column widths."""
    index = next(i for i, t in enumerate(screen.targets) if t.address == address)
    return screen.cells()[index]


def static_text(screen: ProbeScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_probe(app, pilot, plan: MXPlan | None, dialer=None, **options) -> ProbeScreen:
    screen = ProbeScreen(plan, dialer or app.network.dialer, **options)
    await app.push_screen(screen)
    await workers_settled(app, pilot)
    return screen


async def close(app, pilot) -> None:
    """Close the probe screen as the user does, and make sure it is gone before the next
    check (an open screen would swallow the next check's keys)."""
    await pilot.press("escape")
    await workers_settled(app, pilot)
    assert not isinstance(app.screen, ProbeScreen)


async def nothing_to_probe_without_a_plan_or_an_address(app, pilot) -> None:
    """No plan (nothing resolved) says to resolve first and shows no table; q closes it. A
    null MX says there is nothing to probe for the domain, and r then starts no probe."""
    screen = await open_probe(app, pilot, None)
    assert "resolve a domain first" in static_text(screen, "#probe-empty")
    assert not screen.query_one(DataTable).display
    await pilot.press("q")
    await workers_settled(app, pilot)
    assert not isinstance(app.screen, ProbeScreen)
    null = await resolve_mx("null.example.com", nameservers=app.network.nameservers, timeout=1)
    screen = await open_probe(app, pilot, null)
    message = static_text(screen, "#probe-empty")
    assert "Nothing to probe for null.example.com" in message and "null" in message
    await pilot.press("r")  # nothing to probe again: no crash, no worker
    assert not screen.running and app.is_running
    await close(app, pilot)


async def mx_hosts_without_address_are_named(app, pilot) -> None:
    """The MX hosts of noaddr.example.com that have no address are named in the summary; the
    one with addresses gets its rows."""
    plan = await resolve_mx("noaddr.example.com", nameservers=app.network.nameservers, timeout=1)
    screen = await open_probe(app, pilot, plan, timeout=2)
    assert [t.host for t in screen.targets] == ["mx1.example.com", "mx1.example.com"]
    summary = static_text(screen, "#probe-summary")
    assert "no address: ghost.noaddr.example.com, empty.noaddr.example.com" in summary
    await close(app, pilot)


async def busy_and_silent_hosts_are_unreachable_with_their_reason(app, pilot) -> None:
    """implicit.example.com: the host greeting 421 and the silent one are both unreachable,
    each with its reason (the greeting, "no reply within 0.5 s")."""
    plan = await resolve_mx("implicit.example.com", nameservers=app.network.nameservers, timeout=1)
    screen = await open_probe(app, pilot, plan, timeout=0.5)
    busy = row_of(screen, "192.0.2.30")
    assert busy["reach"] == REACH_NO and busy["greeting"].startswith("421")
    assert "turns connections away" in full_row(screen, "192.0.2.30")["error"]
    assert busy["error"].startswith("greeting 421")
    silent = row_of(screen, "2001:db8::30")
    assert silent["reach"] == REACH_NO and silent["greeting"] == "-"
    assert "no reply within 0.5 s" in silent["error"]
    assert "2 addresses · reachable 0 · TLS 0" in static_text(screen, "#probe-summary")
    await close(app, pilot)


async def rows_fill_in_while_a_silent_host_still_waits(app, pilot) -> None:
    """A row fills in as its result arrives while another address (the demo's silent host,
    given 3 s) is still waited for; closing the screen cancels the waiting probe."""
    plan = plan_of("192.0.2.10", "2001:db8::30")
    screen = ProbeScreen(plan, app.network.dialer, timeout=3)
    await app.push_screen(screen)
    await until(pilot, lambda: screen.results[0] is not None, "the first address's result")
    assert screen.running, "the silent host should still be waiting"
    assert row_of(screen, "192.0.2.10")["reach"] == REACH_YES
    assert row_of(screen, "2001:db8::30")["reach"] == REACH_WAIT
    assert "probing: 1 done" in static_text(screen, "#probe-summary")
    await close(app, pilot)  # well before the 3 s: the wait was cancelled, not finished
    assert screen.results[1] is None


async def hostile_greeting_is_shown_literally_in_row_and_details(app, pilot) -> None:
    """A greeting full of markup, escapes and bidi controls is shown literally in its row and
    in the details, and nothing of it reaches the terminal raw."""
    async with HostileHost("markup") as hostile:
        dialer = LabDialer({"203.0.113.9": hostile.address})
        screen = await open_probe(app, pilot, plan_of("203.0.113.9"), dialer, timeout=2)
        await pilot.press("enter")
        assert app.is_running and app.screen is screen
        row = row_of(screen, "203.0.113.9")
        assert "[bold red] [/" in row["greeting"]
        assert "[@click=app.quit]x[/]" in full_row(screen, "203.0.113.9")["greeting"]
        detail = static_text(screen, "#probe-detail-text")
        for payload in MARKUP_PAYLOADS:
            if payload.startswith("["):
                assert payload in detail
        assert "\\x1b]0;PWNED\\x07" in detail and "\\u202e" in detail
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg
        assert "[@click=app.quit]x[/]" in svg.replace("&#160;", " ") or "@click" in svg
        await close(app, pilot)


async def demo_plan_rows_details_and_probing_again(app, pilot, seen: list[object]) -> None:
    """The demo's plan: every address a row (a host's second address leaves host and preference
    blank), reachable and refusing rows with their greeting, extensions, TLS and error, and the
    summary once done; Enter opens the full details of the row, which follow the cursor, d
    hides them; r probes every address again (a second run of 5 results) and the screen stays."""
    seen.clear()
    screen = await open_probe(app, pilot, app.resolved_plan, timeout=2)
    addresses = [t.address for t in screen.targets]
    assert addresses == [
        "192.0.2.10", "2001:db8::10", "192.0.2.11", "2001:db8::11", "192.0.2.20"
    ]  # fmt: skip
    assert screen.query_one(DataTable).row_count == 5

    mx1 = row_of(screen, "192.0.2.10")
    assert mx1["host"] == "10 mx1.example.com"
    assert mx1["reach"] == REACH_YES
    assert mx1["greeting"].startswith("220 mx1.example.com")
    full = full_row(screen, "192.0.2.10")["extensions"]
    assert full.startswith("STARTTLS SIZE 67.1M 8BITMIME")
    assert mx1["extensions"].startswith("STARTTLS SIZE")
    assert full_row(screen, "192.0.2.10")["tls"].startswith("1.3 ✗ bad 20")
    # The second address of the same host leaves host and preference blank: a group.
    assert row_of(screen, "2001:db8::10")["host"] == ""
    assert row_of(screen, "192.0.2.11")["host"] == "   mx2.example.com"

    refused = row_of(screen, "2001:db8::11")
    assert refused["reach"] == REACH_NO
    assert refused["greeting"] == "-" and refused["error"].startswith("connect: connection")
    assert full_row(screen, "2001:db8::11")["error"] == "connect: connection refused"

    backup = row_of(screen, "192.0.2.20")
    assert backup["host"] == "20 backup.example.com"
    assert "SIZE 10M" in backup["extensions"]

    summary = static_text(screen, "#probe-summary")
    assert "5 addresses · reachable 4 · TLS 4 · slowest" in summary and "elapsed" in summary
    assert "probing" not in summary

    # Enter: the full details of the row under the cursor (the first).
    assert not screen.query_one("#probe-detail").display
    await pilot.press("enter")
    assert screen.query_one("#probe-detail").display
    detail = static_text(screen, "#probe-detail-text")
    assert "220 mx1.example.com ESMTP mxtui lab" in detail
    assert "AUTH LOGIN PLAIN" in detail and "ENHANCEDSTATUSCODES" in detail
    assert "subject: O=mxtui lab,CN=mx1.example.com" in detail
    assert "does NOT verify for mx1.example.com" in detail
    assert "MAIL" not in detail.split("Sent:")[1]
    await pilot.press("down", "down", "down")  # the details follow the cursor
    assert "connection refused" in static_text(screen, "#probe-detail-text")
    await pilot.press("d")
    assert not screen.query_one("#probe-detail").display

    # r: every address probed again, on the same screen.
    first = [m for m in seen if isinstance(m, ProbeScreen.ResultArrived)]
    assert len(first) == 5 and {m.run for m in first} == {1}
    await pilot.press("r")
    await workers_settled(app, pilot)
    again = [m for m in seen if isinstance(m, ProbeScreen.ResultArrived) and m.run == 2]
    assert len(again) == 5
    assert all(r is not None for r in screen.results) and not screen.running
    assert app.is_running and app.screen is screen
    await close(app, pilot)


async def at_80x24_columns_shrink_to_fit_and_details_stay_readable(app, pilot) -> None:
    """Opened at 80×24, the columns fit the width (the error column gives way and a refused
    row's error takes the greeting's place, the TLS cell keeps version and verdict), and the
    details still have room to be read."""
    await pilot.resize_terminal(80, 24)
    assert app.size == (80, 24)
    screen = await open_probe(app, pilot, app.resolved_plan, timeout=2)
    table = screen.query_one(DataTable)
    used = sum(c.width + 2 * CELL_PADDING for c in table.columns.values())
    assert used <= 80 - SCROLLBAR
    refused = row_of(screen, "2001:db8::11")  # no error column: the error takes its place
    assert "error" not in refused and refused["greeting"].startswith("connect: conn")
    assert row_of(screen, "192.0.2.10")["tls"].startswith("1.3 ✗ bad")
    await pilot.press("enter")
    detail = screen.query_one("#probe-detail")
    assert detail.display and detail.size.height >= 6
    assert "220 mx1.example.com ESMTP mxtui lab" in static_text(screen, "#probe-detail-text")
    svg = app.export_screenshot()
    assert "mx1.example.com" in svg


async def test_probe_screen_journey_over_the_lab_demo() -> None:
    """One demo app (its start and first resolve are most of the cost) serves every probe
    check, each step closing its screen before the next; the wide checks at 160×40, then the
    80×24 layout after a resize. Each step's docstring says what it proves:
    nothing_to_probe_without_a_plan_or_an_address, mx_hosts_without_address_are_named,
    busy_and_silent_hosts_are_unreachable_with_their_reason,
    rows_fill_in_while_a_silent_host_still_waits,
    hostile_greeting_is_shown_literally_in_row_and_details,
    demo_plan_rows_details_and_probing_again (was three tests: the demo plan's rows, Enter's
    details, r), at_80x24_columns_shrink_to_fit_and_details_stay_readable."""
    seen: list[object] = []
    app = make_app(dns_timeout=1)
    async with drive(app, size=(160, 40), message_hook=seen.append) as pilot:
        await workers_settled(app, pilot)
        assert app.resolved_plan is not None
        await nothing_to_probe_without_a_plan_or_an_address(app, pilot)
        await mx_hosts_without_address_are_named(app, pilot)
        await busy_and_silent_hosts_are_unreachable_with_their_reason(app, pilot)
        await rows_fill_in_while_a_silent_host_still_waits(app, pilot)
        await hostile_greeting_is_shown_literally_in_row_and_details(app, pilot)
        await demo_plan_rows_details_and_probing_again(app, pilot, seen)
        await at_80x24_columns_shrink_to_fit_and_details_stay_readable(app, pilot)


def result(**overrides) -> ProbeResult:
    values = dict(
        target=TryTarget("mx.test", 10, "192.0.2.1", 4),
        reachable=True,
        greeting=None,
        extensions=(),
        tls=None,
        ms=1.0,
        total_ms=2.0,
        error="",
    )
    values.update(overrides)
    return ProbeResult(**values)


def test_the_greeting_cell_keeps_the_enhanced_code() -> None:
    busy = Reply(421, "busy, come back later", "4.3.2", ("421 4.3.2 busy, come back later",))
    assert greeting_cell(result(greeting=busy)) == "421 4.3.2 busy, come back later"


def test_reach_cell_says_it_in_words_not_only_colour() -> None:
    assert reach_cell(None) == "… wait"
    assert reach_cell(result()) == "✓ yes"
    assert reach_cell(result(reachable=False)) == "✗ no"


def test_extensions_cell_keeps_keywords_and_the_size_limit() -> None:
    cell = extensions_cell(result(extensions=("SIZE 52428800", "8BITMIME", "AUTH PLAIN LOGIN")))
    assert cell == "SIZE 52.4M 8BITMIME AUTH"
    cell = extensions_cell(result(extensions=("HELP", "PIPELINING", "STARTTLS", "X-ODD")))
    assert cell == "STARTTLS PIPELINING HELP X-ODD"


def test_column_widths_fit_80_columns_and_grow_when_there_is_room() -> None:
    long = {c.key: "x" * 100 for c in COLUMNS}
    narrow = column_widths(80, [long])
    assert "error" not in narrow and "extensions" not in narrow  # the details have them
    assert sum(narrow.values()) + 2 * CELL_PADDING * len(narrow) <= 80 - SCROLLBAR
    wide = column_widths(200, [long])
    assert wide["greeting"] > narrow["greeting"] and wide["host"] == 32
    assert set(wide) == {c.key for c in COLUMNS} - {"policy"}  # only with a policy to check
    with_policy = column_widths(200, [long], policy=True)
    assert set(with_policy) == {c.key for c in COLUMNS} and with_policy["policy"] >= 8
    narrow_policy = column_widths(80, [long], policy=True)
    assert sum(narrow_policy.values()) + 2 * CELL_PADDING * len(narrow_policy) <= 80 - SCROLLBAR
    short = column_widths(200, [{"host": "a.test"}])
    assert short["host"] == 9  # no wider than needed beyond the least width


def test_cut_marks_what_it_cut() -> None:
    assert cut("220 mx.example.com", 6) == "220 m…"
    assert cut("220", 6) == "220"
    assert cut("2001:db8:100::1234", 11, middle=True) == "2001:…:1234"


def test_a_cut_tls_cell_keeps_version_and_verdict_whole() -> None:
    assert cut("1.3 ✗ bad 2027-12-02", 12, words=True) == "1.3 ✗ bad…"
    assert cut("1.3 ✗ bad 2027-12-02", 9, words=True) == "1.3 ✗ bad"
    assert cut("1.3 ✗ bad 2027-12-02", 20, words=True) == "1.3 ✗ bad 2027-12-02"


def test_the_summary_gives_a_lab_probes_time_in_milliseconds() -> None:
    """A lab probe takes a few milliseconds, which "elapsed 0.0 s" hid (issue 13 item 8)."""
    assert summary_text([], [], 0.012, running=False).endswith("elapsed 12 ms")
    assert summary_text([], [], 2.5, running=False).endswith("elapsed 2.5 s")
