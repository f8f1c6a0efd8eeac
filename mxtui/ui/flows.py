"""What the app's keys open and how a few events read on screen, kept out of the app class.

Plain functions of the app (no state of their own): the screens and files a key opens (`OPEN`),
the palette's entries, opening a scenario or a replay, the transcript separator for a walk
event, and the `Shown` of a walk step. The app stays the one place that holds the choices, the
network and the driver; these only read and set them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.widgets import Input
from textual.widgets.tree import TreeNode

from mxtui.desk.choices import Choices
from mxtui.desk.connection import Connection
from mxtui.desk.explain import Shown, notice_preview, shown_step
from mxtui.desk.replay import ReplayDriver
from mxtui.desk.walk import WalkDriver
from mxtui.desk.walk_state import WalkState
from mxtui.model import (
    Address,
    AttemptStarted,
    Envelope,
    HopStarted,
    MXHost,
    MXPlan,
    StepResult,
    WalkStarted,
)
from mxtui.policy import PROFILES
from mxtui.text import clock_offset, printable, span
from mxtui.ui.detail import NodeDetail
from mxtui.ui.explain import ExplainPanel, NDRScreen
from mxtui.ui.help import HelpScreen
from mxtui.ui.keys import COMMANDS
from mxtui.ui.mx_tree import MXTree, NodeData
from mxtui.ui.probe_view import ProbeScreen
from mxtui.ui.safe import markup_literal
from mxtui.ui.screens import ConnectionScreen, EnvelopeScreen
from mxtui.ui.session_pane import SessionPane, Target
from mxtui.ui.transcript import LineScreen, TranscriptView, cursor_line, cursor_reply
from mxtui.ui.walk_panel import DEMO, Narrative, ScenarioPicker

if TYPE_CHECKING:
    from mxtui.ui.app import MXTuiApp


# ---- how events read -----------------------------------------------------------------------


def separator(event: object, state: WalkState | None) -> str:
    """The transcript line that marks a retry, a relay's hop or a new address ("" for none)."""
    if isinstance(event, WalkStarted) and event.attempt > 0:
        return (
            f"══ retry: attempt {event.attempt + 1} at {clock_offset(event.clock_s)} "
            "(simulated time) ══"
        )
    if isinstance(event, HopStarted) and state is not None:
        return f"══ {state.hop_words()} (simulated time) ══"
    if isinstance(event, AttemptStarted):
        t = event.target
        by = f"hop {event.hop} · " if event.hop > 1 else ""
        return printable(
            f"── {by}try {event.index + 1}: {t.host} [{t.address}] preference {t.preference} ──"
        )
    return ""


def target(plan: MXPlan | None, data: object, parent: object) -> Target | None:
    """The address to dial for a tree node: an address itself, or a host's first address."""
    if plan is None:
        return None
    flat = [(h, a) for h in plan.hosts for a in h.addresses]
    if isinstance(data, Address) and isinstance(parent, MXHost):
        host, address = parent, data
    elif isinstance(data, MXHost) and data.addresses:
        host, address = data, data.addresses[0]
    else:
        return None
    index = next((i for i, (h, a) in enumerate(flat) if h is host and a is address), 0)
    return Target(address.address, host.name, index, len(flat))


def connect_node(app: MXTuiApp, node: TreeNode[NodeData]) -> None:
    """Enter on a tree node: talk to its address (a host: its first address), within the
    pacer's limit towards real hosts; a narrower screen brings the session forward."""
    parent = node.parent.data if node.parent else None
    chosen = target(app.query_one(MXTree).plan, node.data, parent)
    if chosen is None:
        return
    if app.network is None:
        app.notify("This is a replay: nothing is dialled.")
        return
    pacer = app.network.pacer
    if pacer is not None and (wait := pacer.delay(chosen.address)) > 0:
        app.notify(
            f"Real hosts get at most {pacer.limit} sessions a minute: {chosen.address} "
            f"can be dialled again in {span(wait + 0.999)}.",
            markup=False,
        )
        return
    if pacer is not None:
        pacer.note(chosen.address)
    if isinstance(app.driver, WalkDriver):
        app.driver.set_plan(app.resolved_plan)  # the walk is off screen now: p won't rerun it
    app.driver.stop()
    pane = app.query_one(SessionPane)
    try:
        session = app.choices.connection.open_session(
            chosen.address, pane.envelope, host=chosen.host, dialer=app.network.dialer,
            trust_pem=app.network.trust_pem, timeouts=app.timeouts, on_event=pane.session_event,
        )  # fmt: skip
    except ValueError as exc:  # a CA or certificate file gone since it was chosen
        app.notify(f"Connection (E): {exc}", severity="error", markup=False)
        return
    app.session_log.begin("session")
    pane.connect(chosen, session)
    if app.has_class("-narrow") or app.has_class("-medium"):
        app.action_show_pane("session")


def picked_step(app: MXTuiApp, step: StepResult, *, following: bool) -> Shown | None:
    """What to explain for a step picked in the transcript (None: keep what is shown).

    `following`: the cursor moved by itself, following new lines. In a walk that is never a
    pick: the walk explains each step as it takes it and its outcome at the end, and the
    cursor following onto the last reply (a QUIT) must not replace that, whether or not the
    transcript has the focus (a narrow screen gives it the focus when the walk starts)."""
    state = app.driver.state
    walked = state.contexts.get(id(step)) if state is not None else None
    if walked is not None:
        if following:
            return None  # the cursor following a walk: each decision is shown as it is taken
        where, context = walked
        return shown_step(step, context, remote=where.host if where else None)
    own = app.query_one(SessionPane).target
    if own is not None:
        return shown_step(step, own.context, remote=own.host)
    return shown_step(step) if app.replaying else None


def profile_words(app: MXTuiApp, walking: bool) -> str:
    """What `p` changed, in one line (the explanation may be off screen, or empty)."""
    words = f"Profile: {app.choices.profile.display}."
    if walking:
        return words + " The walk runs again under it, with the same seed."
    if app.shown is not None:
        return words + " The explanation now says what it does with the reply on screen."
    return words + " It explains the next reply (Enter on an address, or g to walk)."


def show_detail(app: MXTuiApp, data: object = None) -> None:
    """The detail under the tree: of `data`, or of the node under the cursor."""
    if data is None:
        node = app.query_one(MXTree).cursor_node
        if node is None:
            return
        data = node.data
    examples = app.network.examples if app.network is not None else ()
    app.query_one(NodeDetail).show(data, examples=examples)


# ---- replays and scenarios ---------------------------------------------------------------


async def begin_replay(app: MXTuiApp, driver: ReplayDriver) -> None:
    """The screen for a replay: the recorded domain, envelope (and message size), profile."""
    header = driver.header
    domain = printable(str(header.get("domain") or ""))
    app.sub_title = "replay · " + domain
    profile = header.get("profile")
    if isinstance(profile, str) and profile in PROFILES:
        app.choices = app.choices.with_profile(profile)
    elif isinstance(profile, str):
        app.notify(f"The recording names an unknown profile {printable(profile)!r}.", markup=False)
    app.query_one(NodeDetail).show(None)
    app.query_one("#domain", Input).value = domain
    app.query_one(MXTree).begin(domain or "(recording)")
    pane = app.query_one(SessionPane)
    if driver.envelope is not None:
        app.choices = app.choices.with_envelope(driver.envelope)
        pane.set_envelope(driver.envelope, driver.size)
    what = "walk" if driver.walk else "session"
    pane.begin_external(f"Replay of a recorded {what} · {domain}")
    app.session_log.stop()
    driver.start(paused=driver.start_paused)
    app.query_one(MXTree).focus()


def show_scenario(app: MXTuiApp, scenario: object) -> None:
    """Narrative and title for `scenario` (None: the demo lab or a real domain)."""
    from mxtui.lab.scenarios import Scenario

    app.query_one(Narrative).show(scenario if isinstance(scenario, Scenario) else None)
    if isinstance(scenario, Scenario):
        app.sub_title = f"lab · scenario {scenario.name} · {scenario.domain}"
    elif app.network is not None:
        app.sub_title = app.network.label


def pick_scenario(app: MXTuiApp) -> None:
    from mxtui.lab.scenarios import list_scenarios

    try:
        scenarios = list_scenarios()
    except ValueError as exc:
        app.notify(f"Cannot read the scenarios: {exc}", severity="error", markup=False)
        return
    name = getattr(app.scenario, "name", None)
    current = name or (DEMO if app.network is not None and app.network.simulated else None)

    def chosen(picked: str | None) -> None:
        if picked is not None:
            app.call_later(open_scenario, app, picked)

    app.push_screen(ScenarioPicker(scenarios, current), chosen)


async def open_scenario(app: MXTuiApp, name: str) -> None:
    """Stop what runs and open scenario `name` (or the demo): its lab, envelope, profile and
    narrative, and a walk driver over the new lab."""
    from mxtui.lab.runtime import Lab
    from mxtui.lab.scenarios import load_scenario
    from mxtui.ui.factory import timers

    scenario = None
    if name != DEMO:
        try:
            scenario = load_scenario(name)
        except ValueError as exc:
            app.notify(str(exc), severity="error", markup=False)
            return
    lab = scenario.lab() if scenario is not None else Lab()
    try:
        await lab.start()
    except OSError as exc:
        app.notify(f"Cannot start the lab: {exc}", severity="error", markup=False)
        return
    app.driver.stop()
    pane = app.query_one(SessionPane)
    await pane.forget()
    if app.network is not None:
        await app.network.stop()
    app.network, app.scenario = lab, scenario
    connection = app.choices.connection  # the person's, whatever the lab
    if scenario is not None:
        app.choices = Choices.make(
            scenario.domain, lab=True, profile=scenario.profile, envelope=scenario.envelope,
            scenario=scenario.name, params=scenario.params,
        )  # fmt: skip
    else:
        app.choices = Choices.make(lab.domain, lab=True, profile=app.choices.profile)
    app.choices = app.choices.with_connection(connection)
    app.driver = WalkDriver(lab, app.choices, app.show_event, timers(app), timeouts=app.timeouts)
    show_scenario(app, scenario)
    pane.set_envelope(app.choices.envelope)
    app.query_one("#domain", Input).value = lab.domain
    app.start_resolve(lab.domain)
    app.query_one(MXTree).focus()


# ---- what the open('…') keys open --------------------------------------------------------


def _ndr(app: MXTuiApp) -> None:
    """b: the NDR the walk produced, else the notice after the decision on screen."""
    state = app.driver.state
    if state is not None and state.result is not None and state.result.ndrs:
        body = "\n\n".join(
            f"— for {printable(r)} —\n{text}" for r, text in state.result.ndrs.items()
        )
        app.push_screen(NDRScreen(f"NDR from the walk ({state.result.outcome})", body))
        return
    explanation = app.query_one(ExplainPanel).explanation
    if explanation is not None:
        app.push_screen(NDRScreen(*notice_preview(explanation, app.choices, app.clock())))


def _envelope(app: MXTuiApp) -> None:
    """e: edit the envelope (not in a replay: its envelope is the recorded one)."""
    if app.replaying:
        app.notify("This is a replay: its envelope is the recorded one.")
        return

    def edited(envelope: Envelope | None) -> None:
        if envelope is not None:
            app.set_envelope(envelope)

    app.push_screen(EnvelopeScreen(app.choices.envelope), edited)


def _connection(app: MXTuiApp) -> None:
    """E: how the sessions the person steps connect and talk (swaks' flags)."""
    if app.network is None:
        app.notify("This is a replay: nothing is dialled.")
        return

    def edited(connection: Connection | None) -> None:
        if connection is None or connection == app.choices.connection:
            return
        app.choices = app.choices.with_connection(connection)
        said = connection.summary() or "the defaults (ESMTP, STARTTLS when offered)"
        app.notify(f"Connection: {said}. The next Enter on an address uses it.", markup=False)

    app.push_screen(
        ConnectionScreen(app.choices.connection, trust_pem=app.network.trust_pem), edited
    )


def _narrative(app: MXTuiApp) -> None:
    narrative = app.query_one(Narrative)
    if narrative.scenario is None:
        app.notify("No scenario open: s picks one.")
        return
    narrative.toggle_fold()


def _export(app: MXTuiApp) -> None:
    """w: the transcript as text and JSON Lines, and (live) a recording to replay."""
    transcript = app.query_one(TranscriptView)
    if not transcript.line_count:
        app.notify("The transcript is empty: nothing to export.")
        return
    stamp = time.strftime("%Y%m%d-%H%M%S")
    # `mxtui serve` gives each tab a folder of its own; otherwise the working directory.
    folder = os.environ.get("MXTUI_EXPORT_DIR") or Path.cwd()
    base = Path(folder) / f"mxtui-transcript-{stamp}"
    state = app.driver.state
    try:
        base.with_suffix(".txt").write_text(transcript.export_text(), encoding="utf-8")
        base.with_suffix(".jsonl").write_text(transcript.export_jsonl(), encoding="utf-8")
        recording = None
        if not app.replaying:
            domain = state.domain if state and state.domain else ""
            seed = state.seed if state else None
            walk = getattr(app.driver, "walk", None)
            envelope = walk.envelope if walk is not None else None
            recording = app.session_log.save(
                base, app.choices, domain=domain, seed=seed, envelope=envelope
            )
    except OSError as exc:
        app.notify(f"Could not write the export: {exc}", severity="error", markup=False)
        return
    saved = f"Saved {base.name}.txt and .jsonl in {base.parent}"
    if recording is not None:
        saved += f"; replay the recording with: mxtui replay {recording.name}"
    app.notify(saved, markup=False)


def _probe(app: MXTuiApp) -> None:
    """P: every address of every MX host at once (reachable, greeting, EHLO, TLS)."""
    if app.network is None:
        app.notify("This is a replay: nothing is dialled.")
        return
    app.push_screen(
        ProbeScreen(
            app.resolved_plan,
            app.network.dialer,
            ehlo_name=app.choices.envelope.ehlo_name,
            timeout=app.timeouts.connect if app.timeouts else 5.0,
            tls_policy=app.query_one(MXTree).policy,
            trust_pem=app.network.trust_pem,
        )
    )


def _copy(app: MXTuiApp, whole_reply: bool) -> None:
    """y / Y: the transcript line under the cursor, or the whole reply it belongs to."""
    view = app.query_one(TranscriptView)
    line = cursor_line(view)
    if line is None:
        app.notify("No line under the cursor: 2 goes to the transcript, ↑ ↓ pick a line.")
        return
    text = cursor_reply(view) if whole_reply else printable(line.text)
    app.copy_to_clipboard(text)
    what = "the reply" if whole_reply else "the line"
    app.notify(f"Copied {what} ({len(text)} characters).", markup=False)


def _find(app: MXTuiApp) -> None:
    """ctrl+f: the transcript's find box (a narrow screen brings the session forward)."""
    pane = app.query_one(SessionPane)
    if app.has_class("-narrow"):
        app.action_show_pane("session")
    pane.add_class("-finding")
    box = pane.query_one("#find", Input)
    box.focus()


def _find_again(app: MXTuiApp, forward: bool) -> None:
    """] / [: the next or previous line holding the find box's words."""
    pane = app.query_one(SessionPane)
    words = pane.query_one("#find", Input).value
    if not words.strip():
        _find(app)
        return
    pane.find(words, forward=forward)


def _line(app: MXTuiApp) -> None:
    """Enter in the transcript: the line under the cursor whole, with its step."""
    view = app.query_one(TranscriptView)
    line = cursor_line(view)
    if line is not None:
        app.push_screen(LineScreen(line, view.step_at(view.cursor_row)))


def _leave(app: MXTuiApp) -> None:
    """Esc: out of the box being typed in, back to the pane it came from."""
    app.focus_memory.leave(app)


def _resolve(app: MXTuiApp) -> None:
    """r: look the domain up again (the box's text if it was edited)."""
    domain = app.query_one("#domain", Input).value or app.domain
    if domain:
        app.start_resolve(domain)


def _help(app: MXTuiApp) -> None:
    app.push_screen(HelpScreen())


OPEN: dict[str, Callable[[MXTuiApp], None]] = {
    "scenarios": pick_scenario,
    "ndr": _ndr,
    "envelope": _envelope,
    "connection": _connection,
    "narrative": _narrative,
    "export": _export,
    "probe": _probe,
    "help": _help,
    "copy-line": partial(_copy, whole_reply=False),
    "copy-reply": partial(_copy, whole_reply=True),
    "find": _find,
    "line": _line,
    "leave": _leave,
    "resolve": _resolve,
    "find-next": partial(_find_again, forward=True),
    "find-previous": partial(_find_again, forward=False),
}


def palette(app: MXTuiApp) -> Iterator[SystemCommand]:
    """The command palette's entries: the command table's, every profile, every scenario."""
    for name, profile in PROFILES.items():
        yield SystemCommand(
            f"Profile: {profile.display}",
            f"Explain every reply as {profile.display} would act ({profile.description})",
            partial(app.set_profile, name),
        )
    for command in COMMANDS:
        if command.palette:
            yield SystemCommand(
                command.palette, command.help, partial(app.run_action, command.action)
            )
    try:
        from mxtui.lab.scenarios import list_scenarios

        scenarios = list_scenarios()
    except ValueError:
        scenarios = []
    for scenario in scenarios:
        yield SystemCommand(
            markup_literal(f"Scenario: {scenario.name}"),  # the palette parses markup
            markup_literal(scenario.title),
            partial(app.call_later, open_scenario, app, scenario.name),
        )
