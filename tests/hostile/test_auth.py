"""AUTH never goes where it should not, and the password is never shown, against real Postfix.

Postfix checks no password itself: a small Dovecot-protocol server (tests/smtp/sasl_peer.py)
does, so the real Postfix offers AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 and runs each exchange. What
that server was asked is what reached Postfix.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "smtp"))
import postfix_peer
import sasl_peer
from postfix_peer import HOSTNAME, USER, Postfix
from smtp_support import QUICK, SessionFactory, envelope

from mxtui.lab.hosts import HostBehaviour, LabSMTP
from mxtui.model import Credentials, Envelope, Stage, StepResult
from mxtui.smtp import RealDialer, Session
from mxtui.smtp.transcript import MASK, Transcript, secret_forms, to_text

PASSWORD = "s3cret-pw"
TOKEN = "ya29.oauth-token"


def _need_postfix() -> None:
    if os.geteuid() != 0 or not postfix_peer.available():
        if os.environ.get("MXTUI_REQUIRE_POSTFIX") == "1":
            pytest.fail("Postfix is required (MXTUI_REQUIRE_POSTFIX=1) but cannot run here")
        pytest.skip("Postfix is not installed (or not running as root)")


@pytest.fixture(scope="module")
def sasl() -> Iterator[sasl_peer.SaslServer]:
    with sasl_peer.SaslServer(USER, PASSWORD, TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def auth_postfix(sasl: sasl_peer.SaslServer) -> Iterator[Postfix]:
    """A Postfix that offers AUTH (in the clear too, as smtpd_tls_auth_only = no allows)."""
    _need_postfix()
    with Postfix(main_cf=sasl_peer.main_cf(sasl.port)) as pf:
        yield pf


@pytest.fixture(scope="module")
def bare_postfix() -> Iterator[Postfix]:
    """A Postfix with no AUTH at all."""
    _need_postfix()
    with Postfix() as pf:
        yield pf


def session(pf: Postfix, creds: Credentials, tls: str = "required") -> Session:
    env = Envelope("sender@example.org", (USER,), ehlo_name="client.example.org",
                   credentials=creds)  # fmt: skip
    return Session("127.0.0.1", env, dialer=RealDialer(pf.port), tls=tls,  # type: ignore[arg-type]
                   tls_name=HOSTNAME, trust_pem=pf.cert.cert_pem, timeouts=QUICK)  # fmt: skip


async def until(s: Session, stage: Stage) -> StepResult:
    """Step the standard path until `stage` has run; return its result."""
    for _ in range(20):
        result = await s.step()
        assert result is not None, f"the session ended before {stage}"
        if result.stage is stage:
            return result
    raise AssertionError(f"{stage} never came")


def sent_lines(s: Session) -> list[str]:
    return [line.text for line in s.transcript if line.dir == "sent"]


def assert_no_secret(s: Session, creds: Credentials) -> None:
    text = to_text(s.transcript) + repr([r.to_json() for r in s.steps])
    for form in secret_forms(creds):
        assert form not in text


async def test_auth_is_not_sent_when_the_server_does_not_advertise_it(
    bare_postfix: Postfix,
) -> None:
    creds = Credentials(USER, PASSWORD)
    s = session(bare_postfix, creds)
    auth = await until(s, Stage.AUTH)
    assert auth.failure == "not-sent" and auth.error == "Host did not advertise authentication"
    assert not any(line.startswith("AUTH") for line in sent_lines(s))
    assert s.next_stage() is Stage.QUIT  # the account was required: the conversation ends
    await s.quit()


async def test_optional_auth_not_advertised_is_skipped_and_mail_goes_on(
    bare_postfix: Postfix,
) -> None:
    s = session(bare_postfix, Credentials(USER, PASSWORD, optional=True))
    auth = await until(s, Stage.AUTH)
    assert auth.failure == "skipped" and "did not advertise" in auth.error
    mail = await s.step()
    assert mail is not None and mail.stage is Stage.MAIL and mail.reply and mail.reply.code == 250
    await s.quit()


async def test_auth_is_not_sent_in_the_clear_to_a_real_server(
    auth_postfix: Postfix, sasl: sasl_peer.SaslServer
) -> None:
    before = len(sasl.seen)
    s = session(auth_postfix, Credentials(USER, PASSWORD), tls="none")
    auth = await until(s, Stage.AUTH)
    assert auth.failure == "not-sent" and "not encrypted" in auth.error
    assert "--auth-cleartext" in auth.error
    assert not any(line.startswith("AUTH") for line in sent_lines(s))
    assert len(sasl.seen) == before  # nothing reached the password checker
    await s.quit()


async def test_auth_in_the_clear_only_when_asked(
    auth_postfix: Postfix, sasl: sasl_peer.SaslServer
) -> None:
    creds = Credentials(USER, PASSWORD, cleartext=True)
    s = session(auth_postfix, creds, tls="none")
    auth = await until(s, Stage.AUTH)
    assert auth.reply is not None and auth.reply.code == 235 and not s.encrypted
    assert sasl.seen[-1][0] == "PLAIN"
    assert_no_secret(s, creds)
    await s.quit()


@pytest.mark.parametrize(
    ("mechanism", "first_line", "lines"),
    [
        ("PLAIN", f"AUTH PLAIN {MASK}", 1),
        ("LOGIN", "AUTH LOGIN", 3),
        ("CRAM-MD5", "AUTH CRAM-MD5", 2),
        ("XOAUTH2", f"AUTH XOAUTH2 {MASK}", 1),
    ],
)
async def test_each_mechanism_authenticates_over_tls_with_every_secret_masked(
    auth_postfix: Postfix, sasl: sasl_peer.SaslServer, mechanism: str, first_line: str,
    lines: int,
) -> None:  # fmt: skip
    secret = TOKEN if mechanism == "XOAUTH2" else PASSWORD
    creds = Credentials(USER, secret, mechanisms=(mechanism,))
    s = session(auth_postfix, creds)
    auth = await until(s, Stage.AUTH)
    assert s.encrypted
    assert auth.reply is not None and (auth.reply.code, auth.reply.enhanced) == (235, "2.7.0")
    assert auth.sent[0] == first_line and len(auth.sent) == lines
    assert all(line == MASK for line in auth.sent[1:])
    assert [seen[0] for seen in sasl.seen if seen[0] != "CONT"][-1] == mechanism
    assert_no_secret(s, creds)
    assert s.next_stage() is Stage.MAIL
    await s.quit()


async def test_login_is_honoured_even_where_plain_is_offered_first(
    auth_postfix: Postfix, sasl: sasl_peer.SaslServer
) -> None:
    s = session(auth_postfix, Credentials(USER, PASSWORD, mechanisms=("LOGIN",)))
    auth = await until(s, Stage.AUTH)
    assert auth.sent[0] == "AUTH LOGIN" and [r.code for r in auth.replies] == [334, 334, 235]
    await s.quit()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"])
async def test_a_wrong_password_gets_postfixs_535_and_ends_the_conversation(
    auth_postfix: Postfix, mechanism: str
) -> None:
    creds = Credentials(USER, "wrong", mechanisms=(mechanism,))
    s = session(auth_postfix, creds)
    auth = await until(s, Stage.AUTH)
    assert auth.reply is not None and (auth.reply.code, auth.reply.enhanced) == (535, "5.7.8")
    if mechanism == "XOAUTH2":  # RFC 7628 §3.2.3: the error challenge, an empty line, then 535
        assert [r.code for r in auth.replies] == [334, 535] and auth.sent[1] == ""
        detail = base64.b64decode(auth.replies[0].text)
        assert b"401" in detail
    assert s.next_stage() is Stage.QUIT
    assert_no_secret(s, creds)
    await s.quit()


async def test_several_mechanisms_are_tried_in_order_until_one_succeeds(
    auth_postfix: Postfix,
) -> None:
    # A password is not an OAuth token: XOAUTH2 is refused, then LOGIN succeeds (as swaks does).
    creds = Credentials(USER, PASSWORD, mechanisms=("XOAUTH2", "LOGIN"))
    s = session(auth_postfix, creds)
    auth = await until(s, Stage.AUTH)
    assert auth.sent == (f"AUTH XOAUTH2 {MASK}", "", "AUTH LOGIN", MASK, MASK)
    assert [r.code for r in auth.replies] == [334, 535, 334, 334, 235]
    assert auth.reply is not None and auth.reply.code == 235
    assert s.next_stage() is Stage.MAIL
    assert_no_secret(s, creds)
    await s.quit()


async def test_a_mechanism_the_server_does_not_offer_is_not_sent() -> None:
    lab = LabSMTP({"mx": HostBehaviour(kind="accept", auth=("u", PASSWORD))})
    await lab.start()
    try:
        factory = SessionFactory(lab)
        creds = Credentials("u", PASSWORD, mechanisms=("CRAM-MD5",))
        s = factory("mx", envelope(credentials=creds), tls="none")
        auth = await until(s, Stage.AUTH)
        assert auth.failure == "not-sent" and "no AUTH mechanism in common" in auth.error
        assert "LOGIN PLAIN" in auth.error
        await s.quit()
    finally:
        await lab.stop()


@pytest.mark.parametrize("password", ["250", "AUTH", "2.1.5", "a", "25"])
async def test_a_password_that_looks_like_protocol_hides_nothing_from_the_protocol(
    password: str,
) -> None:
    """The password is masked where text is shown, never in what the session parses: reply
    codes, enhanced codes and the EHLO keywords stay as the server sent them."""
    lab = LabSMTP({"mx": HostBehaviour(kind="accept", auth=("user", password))})
    await lab.start()
    try:
        factory = SessionFactory(lab)
        creds = Credentials("user", password, mechanisms=("LOGIN",))
        s = factory("mx", envelope(credentials=creds), tls="none")
        results = []
        while (r := await s.step()) is not None:
            results.append(r)
        assert "AUTH" in s.extensions and "LOGIN" in s.extensions["AUTH"].split()
        codes = [r.reply.code for r in results if r.reply]
        assert codes == [220, 250, 235, 250, 250, 354, 250, 221]
        mail = next(r for r in results if r.stage is Stage.MAIL)
        assert mail.reply is not None and mail.reply.enhanced == "2.1.0"
        auth = next(r for r in results if r.stage is Stage.AUTH)
        assert auth.sent == ("AUTH LOGIN", MASK, MASK)
        for line in s.transcript:  # shown text: the reply code stays, the secret does not
            if line.dir == "recv":
                assert line.text[:3].isdigit()
            if len(password) >= 3:
                assert password not in line.text[4:]
        assert len(lab.hosts["mx"].messages) == 1
    finally:
        await lab.stop()


def test_a_short_password_is_masked_where_a_secret_belongs() -> None:
    t = Transcript()
    t.add_secrets(secret_forms(Credentials("bob", "x")))
    echoed = t.add("recv", "535 5.7.8 bad password x for bob", 0.0, stage=Stage.AUTH)
    typed = t.add("sent", "AUTH PLAIN x", 0.0, stage=Stage.RAW)
    mail = t.add("sent", "MAIL FROM:<x@example.org>", 0.0, stage=Stage.MAIL)
    assert echoed.text == f"535 5.7.8 bad password {MASK} for bob"
    assert typed.text == f"AUTH PLAIN {MASK}"
    assert mail.text == "MAIL FROM:<x@example.org>"  # not a place a secret goes
    blob = base64.b64encode(b"\0bob\0x").decode()
    assert t.add("sent", f"AUTH PLAIN {blob}", 0.0, stage=Stage.RAW).text == f"AUTH PLAIN {MASK}"


def test_the_password_can_be_typed_at_a_prompt_and_is_never_echoed(auth_postfix: Postfix) -> None:
    import hostile_support as hs

    argv = ["smtp", "-s", f"127.0.0.1:{auth_postfix.port}", "-f", "a@example.org", "-t", USER,
            "--tls", "-a", "LOGIN", "-au", USER, "-ap", "-q", "auth", "--timeout", "5"]  # fmt: skip
    with hs.Terminal(*argv) as term:
        assert term.wait_for(b"AUTH password: "), term.output
        term.send(PASSWORD.encode() + b"\n")
        assert term.wait() == 0, term.output
        shown = term.output
    assert b"~> AUTH LOGIN" in shown and b"<~  235 2.7.0" in shown
    assert PASSWORD.encode() not in shown  # not echoed at the prompt, masked in the transcript
