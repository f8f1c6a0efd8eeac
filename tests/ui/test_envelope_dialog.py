"""The envelope dialog carries the message options `mxtui smtp` has: AUTH types, DSN, REQUIRETLS.
(The connection dialog, E, with its connection, transfer and TLS flags, is tried in the demo
journey of test_session_app.py: at 80x24, refused in `mxtui smtp`'s words, obeyed by a session.)"""

from __future__ import annotations

from textual.app import App
from textual.widgets import Checkbox, Input
from ui_support import drive

from mxtui.model import Credentials, DSNRequest, Envelope
from mxtui.ui.screens import EnvelopeScreen


class _Host(App[None]):
    def __init__(self, envelope: Envelope) -> None:
        super().__init__()
        self.start = envelope
        self.result: list[Envelope | None] = []

    def on_mount(self) -> None:
        self.push_screen(EnvelopeScreen(self.start), self.result.append)


async def test_a_bad_auth_type_or_notify_keeps_the_dialog_open_then_all_is_saved() -> None:
    """One envelope dialog proves in turn:
    - a bad AUTH type or NOTIFY keeps the dialog open, nothing saved, and the error names both;
    - corrected, the AUTH types, DSN and REQUIRETLS are saved and the rest kept (the account,
      its being optional, the DSN's envelope id)."""
    start = Envelope("a@example.org", ("b@example.com",), "client.example.org",
                     credentials=Credentials("u", "pw", optional=True),
                     dsn=DSNRequest(envid="id-1"))  # fmt: skip
    app = _Host(start)
    async with drive(app, size=(120, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EnvelopeScreen)
        assert screen.query_one("#env-user", Input).value == "u"  # the account is filled in
        screen.query_one("#env-auth-types", Input).value = "DIGEST-MD5"
        screen.query_one("#env-notify", Input).value = "never,success"
        await pilot.press("f2")
        assert app.screen is screen and app.result == []
        error = str(screen.query_one("#envelope-error").render())
        assert "DIGEST-MD5" in error and "NEVER alone" in error

        values = {"env-auth-types": "login, cram-md5", "env-notify": "success,failure",
                  "env-ret": "hdrs"}  # fmt: skip
        for widget_id, value in values.items():
            screen.query_one(f"#{widget_id}", Input).value = value
        screen.query_one("#env-requiretls", Checkbox).value = True
        await pilot.press("f2")
        assert app.screen is not screen
    assert len(app.result) == 1
    saved = app.result[0]
    assert saved is not None and saved.requiretls
    assert saved.credentials == Credentials("u", "pw", ("LOGIN", "CRAM-MD5"), optional=True)
    assert saved.dsn == DSNRequest(("SUCCESS", "FAILURE"), "HDRS", "id-1")
