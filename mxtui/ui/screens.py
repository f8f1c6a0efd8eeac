"""Modal screens: edit the envelope, choose how to connect, confirm a real send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from mxtui.desk.connection import Connection
from mxtui.model import Credentials, DSNRequest, Envelope
from mxtui.smtp import flags
from mxtui.smtp.message import default_message
from mxtui.text import printable

T = TypeVar("T")


def _read(parse: Callable[[str], T], text: str, fallback: T, problems: list[str]) -> T:
    """`parse(text)`, or `fallback` with the parser's one line added to `problems`."""
    try:
        return parse(text)
    except ValueError as exc:
        problems.append(printable(str(exc)))
        return fallback


class EnvelopeScreen(ModalScreen[Envelope | None]):
    """From, recipients, EHLO name, AUTH account (and mechanisms), DSN, REQUIRETLS and the
    message, editable between steps (the options of `mxtui smtp` that belong to a message)."""

    DEFAULT_CSS = """
    EnvelopeScreen { align: center middle; }
    EnvelopeScreen > Vertical {
        width: 90%; max-width: 110; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    EnvelopeScreen Grid { grid-size: 2; grid-columns: 14 1fr; height: auto; grid-rows: 3; }
    EnvelopeScreen Label { padding: 1 0 0 0; }
    EnvelopeScreen #envelope-body { height: auto; max-height: 60%; }
    EnvelopeScreen TextArea { height: 1fr; min-height: 4; }
    EnvelopeScreen.-short Grid { grid-rows: 1; grid-gutter: 0; }
    EnvelopeScreen.-short Grid Label, EnvelopeScreen.-short Label { padding: 0; }
    EnvelopeScreen.-short Checkbox { border: none; padding: 0; height: 1; }
    EnvelopeScreen.-short #envelope-buttons { display: none; }
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
        self.shown_message = (
            (envelope.message or default_message(envelope))
            .decode("utf-8", errors="replace")
            .replace("\r\n", "\n")
        )
        """The message text as the editor opens it: an envelope without a message of its own
        shows the test message made from it, which stays "made from the envelope" (its From and
        To follow the new envelope) unless the person edits it."""

    def compose(self) -> ComposeResult:
        env = self.envelope
        creds = env.credentials
        with Vertical():
            yield Static(Content.from_markup("[b]Envelope and message[/b] — F2 saves, Esc cancels"))
            with VerticalScroll(id="envelope-body", can_focus=False), Grid():
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
                yield Label("AUTH types")
                yield Input(
                    ", ".join(creds.mechanisms) if creds else "",
                    id="env-auth-types",
                    placeholder="best offered; or PLAIN, LOGIN, CRAM-MD5, XOAUTH2",
                )
                yield Label("DSN NOTIFY")
                yield Input(
                    ",".join(env.dsn.notify) if env.dsn else "",
                    id="env-notify",
                    placeholder="server default; or NEVER, or SUCCESS,FAILURE,DELAY",
                )
                yield Label("DSN RET")
                yield Input(
                    env.dsn.ret if env.dsn else "", id="env-ret", placeholder="FULL or HDRS"
                )
            yield Checkbox(
                "REQUIRETLS: only over TLS, to a server that offers it (RFC 8689)",
                env.requiretls,
                id="env-requiretls",
            )
            yield Label("Message (headers, blank line, body)")
            yield TextArea(
                self.shown_message,
                id="env-message",
                soft_wrap=False,
            )
            yield Static(id="envelope-error")
            with Horizontal(id="envelope-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_resize(self) -> None:
        """A short terminal (an 80×24 SSH session): one line per field, so all of them fit."""
        short = self.app.size.height < 36
        self.set_class(short, "-short")
        for box in self.query(Input):
            box.compact = short

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
        # read as `mxtui smtp` reads --auth, --dsn-notify and --dsn-ret (its words when wrong)
        mechanisms = _read(flags.auth_types, self._value("env-auth-types"), (), problems)
        notify = _read(flags.dsn_notify, self._value("env-notify"), (), problems)
        ret = _read(flags.dsn_ret, self._value("env-ret"), "", problems)
        if problems:
            self.query_one("#envelope-error", Static).update(Content("; ".join(problems)))
            return
        user, password = self._value("env-user"), self.query_one("#env-password", Input).value
        text = self.query_one("#env-message", TextArea).text
        message = text.replace("\n", "\r\n")
        if not message.endswith("\r\n"):
            message += "\r\n"
        if not self.envelope.message and text == self.shown_message:
            message = ""  # not edited: the test message is made from the new envelope
        old = self.envelope
        kept = old.dsn or DSNRequest()
        dsn = replace(kept, notify=notify, ret=ret) if notify or ret or old.dsn else None
        creds = old.credentials
        self.dismiss(
            replace(
                old,
                mail_from=self._value("env-from"),
                recipients=recipients,
                ehlo_name=ehlo,
                message=message.encode("utf-8"),
                credentials=(
                    replace(creds, user=user, password=password, mechanisms=mechanisms)
                    if creds is not None and user
                    else Credentials(user, password, mechanisms=mechanisms)
                    if user
                    else None
                ),
                dsn=dsn,
                requiretls=self.query_one("#env-requiretls", Checkbox).value,
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


class ConnectionScreen(ModalScreen[Connection | None]):
    """How the sessions you step connect and talk (`E`): swaks' --protocol, --pipeline,
    --chunking, TLS and --xclient flags, read by the same functions as `mxtui smtp`
    (`mxtui.desk.connection`). Saved choices apply from the next connection."""

    DEFAULT_CSS = """
    ConnectionScreen { align: center middle; }
    ConnectionScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 95%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ConnectionScreen Grid { grid-size: 2; grid-columns: 22 1fr; height: auto; grid-rows: 1; }
    ConnectionScreen #connection-body { height: auto; }
    ConnectionScreen Checkbox { border: none; padding: 0; height: 1; }
    ConnectionScreen #connection-error { color: $error; height: auto; }
    ConnectionScreen #connection-hint { color: $text-muted; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="connection-cancel"),
        Binding("f2", "save", "Save", id="connection-save"),
    ]

    TEXTS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("protocol", "--protocol", "ESMTP (EHLO); SMTP (HELO); LMTP (LHLO)"),
        ("tls", "TLS mode", "optional; none, required (--tls), on-connect"),
        ("tls_ca_path", "--tls-ca-path", "PEM file to trust besides the system's"),
        ("tls_verify_host", "--tls-verify-host", "the MX host's name"),
        ("tls_cert", "--tls-cert", "client certificate (PEM)"),
        ("tls_key", "--tls-key", "its key (PEM), unless in the certificate file"),
        ("tls_sni", "--tls-sni", "the certificate name"),
        ("tls_protocol", "--tls-protocol", "e.g. tlsv1_2,tlsv1_3 or no_tlsv1_3"),
        ("tls_cipher", "--tls-cipher", "OpenSSL cipher list (TLS 1.2)"),
        ("xclient", "--xclient", "ATTR=VALUE …, e.g. ADDR=192.0.2.7 NAME=client.example"),
    )
    SWITCHES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("pipeline", "--pipeline: MAIL, RCPTs and DATA in one write (PIPELINING)"),
        ("chunking", "--chunking: the message in BDAT chunks (CHUNKING)"),
        ("tls_verify", "--tls-verify: stop when the certificate does not verify"),
    )

    def __init__(self, connection: Connection, *, trust_pem: bytes | None = None) -> None:
        super().__init__()
        self.connection = connection
        self.trust_pem = trust_pem

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content.from_markup(
                    "[b]Connection[/b] (swaks' flags) — for the sessions you step from the next "
                    "Enter on an address; F2 saves, Esc cancels"
                )
            )
            with VerticalScroll(id="connection-body", can_focus=False):
                with Grid():
                    for name, label, placeholder in self.TEXTS:
                        yield Label(label)
                        yield Input(getattr(self.connection, name), id=f"conn-{name}",
                                    placeholder=placeholder, compact=True)  # fmt: skip
                for name, label in self.SWITCHES:
                    yield Checkbox(label, getattr(self.connection, name), id=f"conn-{name}")
            yield Static(id="connection-error")
            yield Static(
                Content("A walk follows its MTA profile, not these. e edits the envelope."),
                id="connection-hint",
            )

    def action_save(self) -> None:
        values: dict[str, Any] = {  # texts and switches by field name, checked just below
            name: self.query_one(f"#conn-{name}", Input).value.strip() for name, _, _ in self.TEXTS
        }
        values.update({name: self.query_one(f"#conn-{name}", Checkbox).value
                       for name, _ in self.SWITCHES})  # fmt: skip
        values["protocol"] = str(values["protocol"]).upper() or "ESMTP"
        values["tls"] = str(values["tls"]).lower() or "optional"
        chosen = Connection(**values)
        try:
            chosen.session_options(self.trust_pem)
        except ValueError as exc:
            self.query_one("#connection-error", Static).update(Content(printable(str(exc))))
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)


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
