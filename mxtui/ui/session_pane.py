"""The session pane: one SMTP conversation, stepped a key at a time, with its live transcript.

The pane owns the `Session` (core) and renders its events; it never interprets server text.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from mxtui.model import (
    DataProgress,
    DecisionContext,
    Envelope,
    SessionEvent,
    Stage,
    StepResult,
    TranscriptLine,
)
from mxtui.smtp import Session
from mxtui.text import printable
from mxtui.ui.steady import SteadyStatic
from mxtui.ui.transcript import TranscriptView, find_next
from mxtui.ui.walk_panel import WalkStatus

FREEZE_EVERY = 20_000

STAGE_WORDS = {
    Stage.CONNECT: "connect",
    Stage.GREETING: "read the greeting",
    Stage.EHLO: "EHLO",
    Stage.HELO: "HELO",
    Stage.STARTTLS: "STARTTLS",
    Stage.AUTH: "AUTH",
    Stage.MAIL: "MAIL FROM",
    Stage.RCPT: "RCPT TO",
    Stage.DATA: "DATA",
    Stage.DOT: "send the message and the dot",
    Stage.QUIT: "QUIT",
}


def how(session: Session) -> str:
    """The connection choices a session runs with, where they differ from the defaults
    (" · LMTP PIPELINING TLS required verify (E)"; "" for none)."""
    words = [session.protocol.upper()] if session.protocol != "esmtp" else []
    words += [
        w for w, on in (("PIPELINING", session.pipelining), ("CHUNKING", session.chunking)) if on
    ]
    if session.tls_mode != "optional":
        words.append(f"TLS {session.tls_mode}")
    if session.tls_verify:
        words.append("verify")
    return f" · {' '.join(words)} (E)" if words else ""


@dataclass(frozen=True)
class Target:
    """What the user chose in the tree: an address, the host it belongs to, and its place in the
    plan's try list (for the decision context)."""

    address: str
    host: str
    index: int = 0
    total: int = 1

    @property
    def context(self) -> DecisionContext:
        return DecisionContext(
            last_address=self.index >= self.total - 1, addresses_tried=self.index + 1
        )


class SessionPane(Vertical):
    """Envelope summary, transcript, raw command line."""

    BORDER_TITLE = "SMTP session"

    class Stepped(Message):
        """A step finished: the explanation panel shows what an MTA does next."""

        def __init__(self, step: StepResult, context: DecisionContext) -> None:
            super().__init__()
            self.step = step
            self.context = context

    class HoldForConfirmation(Message):
        """The end of a message is held: the target is not a lab host, so a person must
        confirm. `line` is the raw line that would end it ("." or BDAT … LAST), None for the
        dot step."""

        def __init__(self, target: Target, line: str | None = None) -> None:
            super().__init__()
            self.target = target
            self.line = line

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: Session | None = None
        self.target: Target | None = None
        self.envelope = Envelope("", ())
        """The envelope shown (the app's choice, given by `set_envelope`)."""
        self._pending: list[TranscriptLine] = []
        self._flush_scheduled = False
        self._unfrozen = 0
        self._connecting = False
        self._early: list[TranscriptLine] = []
        self.busy = False
        self.reading_greeting = False
        self.listener: Callable[[SessionEvent], None] | None = None
        """Sees every event of the pane's own sessions (the app records them)."""
        self.external = ""
        """Set while the transcript shows a walk or a replay, not a session of the pane's own:
        the status line says so."""
        self.message_size: int | None = None
        """The size to show instead of the envelope's message (a replay's recorded size)."""

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="session-status")
        yield SteadyStatic(id="envelope-summary")
        yield WalkStatus(id="walk-status")
        yield TranscriptView(id="transcript")
        yield Input(
            placeholder="find in the transcript — Enter: next match; Esc leaves; ] next, [ back",
            id="find",
        )
        yield Input(
            placeholder="raw command, e.g. VRFY alice or HELP — Enter sends it, Esc leaves",
            id="raw",
        )

    def on_mount(self) -> None:
        self.show_status()

    # ---- status lines -----------------------------------------------------------------------

    def show_status(self) -> None:
        status = self.query_one("#session-status", Static)
        if self.external:
            status.update(Content.assemble((printable(self.external), "bold")))
        elif self.session is None or self.target is None:
            status.update(
                Content.from_markup(
                    "[dim]Choose an address (or a host) in the MX tree and press [b]Enter[/b] "
                    "to connect.[/dim]"
                )
            )
        else:
            stage = self.session.next_stage()
            where = f"{self.target.host} [{self.target.address}]"
            lab = " · lab host" if self.session.lab else " · REAL host: the dot needs confirming"
            next_words = (
                f"next: {STAGE_WORDS.get(stage, str(stage))} (n)" if stage else "conversation over"
            )
            if self.reading_greeting:
                next_words = "connected: waiting for the greeting…"
            status.update(
                Content.assemble(
                    (printable(where), "bold"),
                    lab,
                    how(self.session),
                    "  ·  ",
                    (next_words, "$accent"),
                )
            )
        env = self.envelope
        if self.message_size is not None:
            size = f"message {self.message_size} bytes"
        elif env.message:
            size = f"message {len(env.message)} bytes"
        else:
            size = "a test message made from the envelope"
        summary = (
            f"from {env.mail_from or '<>'} → {', '.join(env.recipients) or '(no recipient)'}"
            f" · EHLO {env.ehlo_name} · {size}"
            + (f" · AUTH as {env.credentials.user}" if env.credentials else "")
            + "  (e: edit)"
        )
        self.query_one("#envelope-summary", Static).update(Content(printable(summary)))

    # ---- session events ---------------------------------------------------------------------

    def session_event(self, event: SessionEvent) -> None:
        if self.listener is not None:
            self.listener(event)
        self.feed(event)
        if isinstance(event, StepResult) and self.target is not None:
            self.post_message(self.Stepped(event, self.target.context))

    def feed(self, event: SessionEvent) -> None:
        """Show one session event (a line, a finished step, progress) in the transcript."""
        transcript = self.query_one(TranscriptView)
        if isinstance(event, TranscriptLine):
            if event.stage is Stage.CONNECT and event.dir == "info":
                self._connecting = True
            elif self._connecting and event.dir == "recv":
                # The greeting often arrives before the connect step is reported; it belongs
                # under the connect separator, with the greeting step.
                self._early.append(event)
                return
            self._pending.append(event)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self.call_later(self._flush)
        elif isinstance(event, DataProgress):
            transcript.progress(event)
        elif isinstance(event, StepResult):
            self._flush()
            transcript.add_step(event)
            if event.stage is Stage.CONNECT:
                self._connecting = False
                if self._early:
                    self._pending, self._early = self._early, []
                    self._flush()

    def begin_external(self, title: str) -> None:
        """The transcript is about to show a walk or a replay: end the pane's own session,
        clear the transcript and say what it shows."""
        if self.session is not None:
            self.session.close()
        self.session = None
        self.target = None
        self._pending.clear()
        self._early.clear()
        self._connecting = False
        self.external = title
        self.query_one(TranscriptView).clear()
        self.show_status()

    def end_external(self) -> None:
        self.external = ""
        self.query_one(WalkStatus).show(None)
        self.show_status()

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._pending:
            lines, self._pending = self._pending, []
            self.query_one(TranscriptView).append(lines)
            self._unfrozen += len(lines)
            if self._unfrozen >= FREEZE_EVERY:
                # Transcript lines live as long as the session: move them out of the garbage
                # collector's sight, or its full passes over 100k+ of them stall a frame.
                self._unfrozen = 0
                gc.freeze()

    # ---- actions ----------------------------------------------------------------------------

    def set_envelope(self, envelope: Envelope, size: int | None = None) -> None:
        """Show `envelope` (and use it from the next step of a session in progress)."""
        self.envelope = envelope
        self.message_size = size
        if self.session is not None:
            self.session.envelope = envelope
        self.show_status()

    def connect(self, target: Target, session: Session) -> None:
        """Talk to `target` through `session`, made by the desk from the person's envelope and
        connection choices with `session_event` as its sink."""
        if self.session is not None:
            self.session.close()
        self.end_external()
        self._early.clear()
        self._connecting = False
        self.target = target
        self.session = session
        self.query_one(TranscriptView).clear()
        self._run(None)

    def next_step(self) -> None:
        if self.session is None:
            self.app.notify("Connect first: choose an address in the MX tree and press Enter.")
            return
        if self.session.next_stage() is None:
            self.app.notify("This conversation is over; press Enter on an address to start again.")
            return
        self._run("step")

    def confirm_send(self, line: str | None = None) -> None:
        """The person confirmed: send the held dot (or the held raw `line`)."""
        if line is None:
            self._run("confirmed-dot")
        else:
            self._run("confirmed-raw", line)

    def rset(self) -> None:
        self._run("rset")

    def noop(self) -> None:
        self._run("noop")

    def quit_session(self) -> None:
        self._run("quit")

    @on(Input.Submitted, "#find")
    def find_submitted(self, event: Input.Submitted) -> None:
        self.find(event.value)

    def find(self, words: str, *, forward: bool = True) -> None:
        """Move the transcript's cursor to the next (previous) line holding `words`."""
        if not words.strip():
            self.app.notify("Type what to find first (ctrl+f).")
        elif not find_next(self.query_one(TranscriptView), words, forward=forward):
            self.app.notify(f"No line of the transcript holds {printable(words)!r}.", markup=False)

    @on(Input.Submitted, "#raw")
    def raw_submitted(self, event: Input.Submitted) -> None:
        line = event.value
        if not line.strip():
            return
        event.input.value = ""
        self._run("raw", line)

    def _run(self, what: str | None, line: str = "") -> None:
        if self.session is None:
            self.app.notify("Connect first: choose an address in the MX tree and press Enter.")
            return
        if self.busy:
            self.app.notify("A step is still running (every wait has a timeout).")
            return
        self.busy = True
        self._step_worker(what, line)

    @work(group="smtp", exit_on_error=False)
    async def _step_worker(self, what: str | None, line: str) -> None:
        session = self.session
        assert session is not None
        try:
            if what is None:
                # The greeting arrives with the connection and is on screen at once, so Enter
                # connects and reads it: the first n then sends EHLO, as the header says.
                await session.connect()
                if session.next_stage() is Stage.GREETING:
                    self.reading_greeting = True
                    self.show_status()
                    await session.step()
            elif what == "step":
                result = await session.step()
                if result is not None and result.failure == "held" and self.target is not None:
                    self.post_message(self.HoldForConfirmation(self.target))
            elif what == "confirmed-dot":
                await session.send_message(confirm_send=True)
            elif what == "rset":
                await session.rset()
            elif what == "noop":
                await session.noop()
            elif what == "quit":
                await session.quit()
            elif what == "raw":
                result = await session.raw(line)
                if result.failure == "held" and self.target is not None:
                    self.post_message(self.HoldForConfirmation(self.target, line))
            elif what == "confirmed-raw":
                await session.raw(line, confirm_send=True)
        finally:
            self.busy = self.reading_greeting = False
            self._flush()
            self.show_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "smtp":
            self.busy = False
            error = event.worker.error
            self.app.notify(
                f"The step failed unexpectedly: {type(error).__name__}: {printable(str(error))}",
                severity="error",
                markup=False,
            )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.aclose()

    async def forget(self) -> None:
        """Another lab opens: its hosts are new, so the session (closed) and the transcript of
        the last one (a walk's or the pane's own) go, and the status asks for a target again."""
        await self.close()
        self.session = None
        self.target = None
        self._pending.clear()
        self._early.clear()
        self._connecting = False
        self.end_external()
        self.query_one(TranscriptView).clear()
