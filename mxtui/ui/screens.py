"""Modal screens: edit the envelope, confirm a real send."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from mxtui.model import Credentials, Envelope
from mxtui.text import printable


class EnvelopeScreen(ModalScreen[Envelope | None]):
    """From, recipients, EHLO name, AUTH account and the message, editable between steps."""

    DEFAULT_CSS = """
    EnvelopeScreen { align: center middle; }
    EnvelopeScreen > Vertical {
        width: 90%; max-width: 110; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    EnvelopeScreen Grid { grid-size: 2; grid-columns: 14 1fr; height: auto; grid-rows: 3; }
    EnvelopeScreen Label { padding: 1 0 0 0; }
    EnvelopeScreen TextArea { height: 1fr; }
    EnvelopeScreen #envelope-buttons { height: 3; align-horizontal: right; }
    EnvelopeScreen #envelope-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="envelope-cancel"),
        Binding("f2", "save", "Save", id="envelope-save"),
    ]

    def __init__(self, envelope: Envelope) -> None:
        super().__init__()
        self.envelope = envelope

    def compose(self) -> ComposeResult:
        env = self.envelope
        creds = env.credentials
        with Vertical():
            yield Static(Content.from_markup("[b]Envelope and message[/b] — F2 saves, Esc cancels"))
            with Grid():
                yield Label("MAIL FROM")
                yield Input(env.mail_from, id="env-from", placeholder="empty = null sender <>")
                yield Label("RCPT TO")
                yield Input(
                    ", ".join(env.recipients), id="env-to", placeholder="a@example.com, b@…"
                )
                yield Label("EHLO name")
                yield Input(env.ehlo_name, id="env-ehlo")
                yield Label("AUTH user")
                yield Input(creds.user if creds else "", id="env-user", placeholder="no AUTH")
                yield Label("AUTH password")
                yield Input(creds.password if creds else "", id="env-password", password=True)
            yield Label("Message (headers, blank line, body)")
            yield TextArea(
                env.message.decode("utf-8", errors="replace").replace("\r\n", "\n"),
                id="env-message",
                soft_wrap=False,
            )
            yield Static(id="envelope-error")
            with Horizontal(id="envelope-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def action_save(self) -> None:
        recipients = tuple(
            r for r in (p.strip() for p in self._value("env-to").replace(";", ",").split(",")) if r
        )
        ehlo = self._value("env-ehlo")
        problems = []
        if not recipients:
            problems.append("give at least one recipient")
        if not ehlo or any(c.isspace() for c in ehlo):
            problems.append("the EHLO name must be one word")
        for address in (self._value("env-from"), *recipients):
            if any(c in address for c in "\r\n<>") or " " in address:
                problems.append(f"{printable(address)!r} is not a plain address")
        if problems:
            self.query_one("#envelope-error", Static).update(Content("; ".join(problems)))
            return
        user, password = self._value("env-user"), self.query_one("#env-password", Input).value
        message = self.query_one("#env-message", TextArea).text.replace("\n", "\r\n")
        if not message.endswith("\r\n"):
            message += "\r\n"
        self.dismiss(
            Envelope(
                mail_from=self._value("env-from"),
                recipients=recipients,
                ehlo_name=ehlo,
                message=message.encode("utf-8"),
                credentials=Credentials(user, password) if user else None,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class ConfirmSendScreen(ModalScreen[bool]):
    """Sending the end-of-data dot to a host outside the lab delivers real mail: ask first."""

    DEFAULT_CSS = """
    ConfirmSendScreen { align: center middle; }
    ConfirmSendScreen > Vertical {
        width: 70; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmSendScreen Horizontal { height: 3; align-horizontal: right; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "Don't send", id="confirm-no"),
        Binding("y", "answer(True)", "Send", id="confirm-yes"),
    ]

    def __init__(self, host: str, address: str) -> None:
        super().__init__()
        self.host, self.address = host, address

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content.assemble(
                    ("Send the message for real?\n\n", "bold $warning"),
                    Content(printable(f"{self.host} [{self.address}]")),
                    " is not a lab host. Sending the end-of-data dot asks it to deliver the "
                    "message to real mailboxes.\n\n",
                    ("y", "bold"),
                    " sends it, ",
                    ("n", "bold"),
                    " or Esc keeps it unsent (QUIT or RSET next).",
                )
            )
            with Horizontal():
                yield Button("Don't send", id="no", variant="primary")
                yield Button("Send", id="yes", variant="warning")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
