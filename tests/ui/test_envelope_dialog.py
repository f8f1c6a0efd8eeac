"""The envelope dialog carries the message options `mxtui smtp` has: AUTH types, DSN, REQUIRETLS;
the connection dialog (E) its connection, transfer and TLS flags."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Checkbox, Input
from ui_support import drive, resolved, until

from mxtui.desk.connection import Connection
from mxtui.model import Credentials, DSNRequest, Envelope
from mxtui.ui.factory import make_app
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.screens import ConnectionScreen, EnvelopeScreen
from mxtui.ui.session_pane import SessionPane


class _Host(App[None]):
    def __init__(self, envelope: Envelope) -> None:
        super().__init__()
        self.start = envelope
        self.result: list[Envelope | None] = []

    def on_mount(self) -> None:
        self.push_screen(EnvelopeScreen(self.start), self.result.append)


async def _edit(envelope: Envelope, values: dict[str, str], requiretls: bool) -> Envelope | None:
    app = _Host(envelope)
    async with drive(app, size=(120, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        for widget_id, value in values.items():
            screen.query_one(f"#{widget_id}", Input).value = value
        screen.query_one("#env-requiretls", Checkbox).value = requiretls
        await pilot.press("f2")
        await pilot.pause()
    return app.result[-1] if app.result else None


async def test_auth_types_dsn_and_requiretls_are_saved_and_the_rest_kept() -> None:
    start = Envelope("a@example.org", ("b@example.com",), "client.example.org",
                     credentials=Credentials("u", "pw", optional=True),
                     dsn=DSNRequest(envid="id-1"))  # fmt: skip
    saved = await _edit(
        start,
        {"env-auth-types": "login, cram-md5", "env-notify": "success,failure", "env-ret": "hdrs"},
        requiretls=True,
    )
    assert saved is not None and saved.requiretls
    assert saved.credentials == Credentials("u", "pw", ("LOGIN", "CRAM-MD5"), optional=True)
    assert saved.dsn == DSNRequest(("SUCCESS", "FAILURE"), "HDRS", "id-1")


async def test_a_bad_auth_type_or_notify_keeps_the_dialog_open() -> None:
    app = _Host(Envelope("a@example.org", ("b@example.com",), "c.example.org"))
    async with drive(app, size=(120, 50)) as pilot:
        await pilot.pause()
        app.screen.query_one("#env-user", Input).value = "u"
        app.screen.query_one("#env-auth-types", Input).value = "DIGEST-MD5"
        app.screen.query_one("#env-notify", Input).value = "never,success"
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, EnvelopeScreen) and app.result == []
        error = str(app.screen.query_one("#envelope-error").render())
        assert "DIGEST-MD5" in error and "NEVER alone" in error


async def test_connection_dialog_fits_80x24_refuses_as_mxtui_smtp_and_the_session_obeys() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, ConnectionScreen), "the dialog")
        screen, area = app.screen, app.screen.region
        for field in [*screen.query(Input), *screen.query(Checkbox)]:
            assert area.contains_region(field.region), field.id  # every field at 80x24
        screen.query_one("#conn-tls_key", Input).value = "client.key"
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionScreen)  # refused in mxtui smtp's words
        assert "--tls-key goes with --tls-cert" in str(
            screen.query_one("#connection-error").render()
        )
        screen.query_one("#conn-tls_key", Input).value = ""
        screen.query_one("#conn-protocol", Input).value = "lmtp"
        screen.query_one("#conn-pipeline", Checkbox).value = True
        await pilot.press("f2")
        await until(pilot, lambda: not isinstance(app.screen, ConnectionScreen), "saved")
        assert app.choices.connection == Connection(protocol="LMTP", pipeline=True)
        tree = app.query_one(MXTree)
        tree.focus()
        tree.move_cursor(tree._address_nodes["192.0.2.10"][0])
        await pilot.press("enter")  # connects and reads the greeting
        pane = app.query_one(SessionPane)
        await until(pilot, lambda: pane.session is not None and not pane.busy, "the greeting")
        await pilot.press("n")
        await until(pilot, lambda: len(pane.session.steps) >= 3 and not pane.busy, "the hello")
        assert pane.session.steps[2].sent == ("LHLO client.lab.test",)
        assert " · LMTP PIPELINING (E)" in str(app.query_one("#session-status").render())
