"""The envelope dialog carries the message options `mxtui smtp` has: AUTH types, DSN, REQUIRETLS."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Checkbox, Input

from mxtui.model import Credentials, DSNRequest, Envelope
from mxtui.ui.screens import EnvelopeScreen


class _Host(App[None]):
    def __init__(self, envelope: Envelope) -> None:
        super().__init__()
        self.start = envelope
        self.result: list[Envelope | None] = []

    def on_mount(self) -> None:
        self.push_screen(EnvelopeScreen(self.start), self.result.append)


async def _edit(envelope: Envelope, values: dict[str, str], requiretls: bool) -> Envelope | None:
    app = _Host(envelope)
    async with app.run_test(size=(120, 50)) as pilot:
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
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        app.screen.query_one("#env-user", Input).value = "u"
        app.screen.query_one("#env-auth-types", Input).value = "DIGEST-MD5"
        app.screen.query_one("#env-notify", Input).value = "never,success"
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, EnvelopeScreen) and app.result == []
        error = str(app.screen.query_one("#envelope-error").render())
        assert "DIGEST-MD5" in error and "NEVER alone" in error
