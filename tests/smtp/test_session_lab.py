"""The session against lab hosts over real loopback sockets, one behaviour at a time."""

from __future__ import annotations

import asyncio
import base64
import socket
import time
from typing import Any

from smtp_support import LAB_ADDRESS, QUICK, SessionFactory, envelope, lab_trust

from mxtui.lab.hosts import HostBehaviour
from mxtui.model import (
    Credentials,
    DataProgress,
    Outcome,
    Stage,
    StepResult,
    Timeouts,
    TranscriptLine,
)
from mxtui.smtp import LabDialer, RealDialer, Session, to_jsonl, to_text
from mxtui.smtp.message import wire_message


async def run_all(session: Session, *, confirm_send: bool = False) -> list[StepResult]:
    """Step the standard path to its end."""
    done = []
    for _ in range(40):
        result = await session.step(confirm_send=confirm_send)
        if result is None:
            return done
        done.append(result)
        if result.failure == "held":
            return done
    raise AssertionError("the session never ended")


def stages(results: list[StepResult]) -> list[str]:
    return [str(r.stage) for r in results]


def codes(results: list[StepResult]) -> list[int | None]:
    return [r.reply.code if r.reply else None for r in results]


async def test_accept_host_full_path_delivers_the_message(accept_lab: SessionFactory) -> None:
    s = accept_lab("accept", envelope("a@example.com", "b@example.com"), tls="none")
    results = await run_all(s)
    assert stages(results) == [
        "connect", "greeting", "ehlo", "mail", "rcpt", "rcpt", "data", "dot", "quit"
    ]  # fmt: skip
    assert codes(results) == [None, 220, 250, 250, 250, 250, 354, 250, 221]
    assert results[3].reply is not None and results[3].reply.enhanced == "2.1.0"
    got = accept_lab.lab.hosts["accept"].messages
    assert len(got) == 1 and got[0].recipients == ("a@example.com", "b@example.com")
    assert got[0].data.endswith(b"This is a test mailing\r\n")
    assert s.next_stage() is None and not s.connected


async def test_events_deliver_each_line_as_it_happens_then_the_step(
    accept_lab: SessionFactory,
) -> None:
    s = accept_lab("accept", tls="none")
    await s.connect()
    await s.greeting()
    events = accept_lab.events
    steps = [i for i, e in enumerate(events) if isinstance(e, StepResult)]
    greeting_at = next(
        i for i, e in enumerate(events) if isinstance(e, TranscriptLine) and e.dir == "recv"
    )
    greeting_line = events[greeting_at]
    assert isinstance(greeting_line, TranscriptLine)
    assert greeting_line.text.startswith("220 ") and greeting_line.stage is Stage.GREETING
    # The greeting line is reported as it arrives, before the greeting step finishes.
    assert greeting_at < steps[1] and len(steps) == 2
    ehlo = await s.ehlo()
    recv = [e for e in accept_lab.events if isinstance(e, TranscriptLine) and e.dir == "recv"]
    assert len(recv) == 1 + len(ehlo.reply.lines) if ehlo.reply else False
    assert [e.t_ms for e in recv] == sorted(e.t_ms for e in recv)
    await s.aclose()


async def test_mail_from_carries_size_and_8bitmime_when_advertised(
    accept_lab: SessionFactory,
) -> None:
    message = "Subject: caf\u00e9\r\n\r\nna\u00efve\r\n".encode()
    s = accept_lab("accept", envelope(message=message), tls="none")
    for _ in range(3):
        await s.step()
    mail = await s.step()
    size = len(wire_message(message)) - 3
    assert mail.stage is Stage.MAIL
    assert mail.sent == (f"MAIL FROM:<sender@example.org> SIZE={size} BODY=8BITMIME",)
    assert mail.ok
    await s.aclose()


async def test_refused_connection_is_an_outcome(lab_hosts) -> None:
    lab = await lab_hosts(down=HostBehaviour(kind="refuse"))
    s = SessionFactory(lab)("down")
    result = await s.connect()
    assert result.outcome is Outcome.REFUSED and result.reply is None
    assert s.next_stage() is None


async def test_a_refused_lab_connection_names_the_address_dialled_not_the_loopback_port() -> None:
    # A loopback port with nothing behind it: what a lab host that is down looks like.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        loopback_port = probe.getsockname()[1]
    dialer = LabDialer({"192.0.2.10": ("127.0.0.1", loopback_port), ("2001:db8::11", 2525): (
        "127.0.0.1", loopback_port)})  # fmt: skip
    for address, port, shown in (
        ("192.0.2.10", None, "192.0.2.10 port 25"),
        ("2001:db8::11", 2525, "2001:db8::11 port 2525"),
    ):
        s = Session(address, envelope(), dialer=dialer, port=port, timeouts=QUICK)
        result = await s.connect()
        assert result.outcome is Outcome.REFUSED
        assert result.error == f"connection refused ({shown})"
        assert str(loopback_port) not in result.error and "127.0.0.1" not in result.error


async def test_unknown_lab_address_is_refused_without_touching_the_network() -> None:
    s = Session("192.0.2.99", envelope(), dialer=LabDialer({}), timeouts=QUICK)
    result = await s.connect()
    assert result.outcome is Outcome.REFUSED
    assert "no lab host" in result.error


async def test_silent_host_gives_a_greeting_timeout(lab_hosts) -> None:
    lab = await lab_hosts(quiet=HostBehaviour(kind="silent"))
    s = SessionFactory(lab)("quiet", timeouts=Timeouts(connect=2, reply=0.3))
    assert (await s.connect()).ok
    start = time.monotonic()
    result = await s.greeting()
    assert result.outcome is Outcome.TIMEOUT and result.reply is None
    assert time.monotonic() - start < 10  # the 0.3 s timeout, not the silent host's 330 s
    assert s.next_stage() is None


async def test_greeting_421_closes_and_554_leads_to_quit(lab_hosts) -> None:
    lab = await lab_hosts(
        busy=HostBehaviour(kind="greet-421"), nomail=HostBehaviour(kind="greet-554")
    )
    factory = SessionFactory(lab)
    busy = factory("busy")
    results = await run_all(busy)
    assert codes(results) == [None, 421]
    assert results[1].reply is not None and results[1].reply.enhanced == "4.3.2"
    nomail = factory("nomail")
    results = await run_all(nomail)
    assert stages(results) == ["connect", "greeting", "quit"]
    assert codes(results) == [None, 554, 221]


async def test_greylist_answers_450_until_the_delay_has_passed(lab_hosts) -> None:
    now = [1000.0]
    from mxtui.lab.hosts import LabSMTP

    lab = LabSMTP({"grey": HostBehaviour(kind="greylist", greylist_delay_s=300)},
                  clock=lambda: now[0])  # fmt: skip
    async with lab:
        factory = SessionFactory(lab)
        first = await run_all(factory("grey", tls="none"))
        rcpt = next(r for r in first if r.stage is Stage.RCPT)
        assert rcpt.reply is not None and (rcpt.reply.code, rcpt.reply.enhanced) == (450, "4.2.0")
        assert stages(first)[-1] == "quit" and "data" not in stages(first)
        now[0] += 301
        second = await run_all(factory("grey", tls="none"))
        assert codes(second)[-3:] == [354, 250, 221]


async def test_known_users_rejects_others_with_550_5_1_1(lab_hosts) -> None:
    lab = await lab_hosts(ku=HostBehaviour(kind="known-users", users=("alice",)))
    s = SessionFactory(lab)("ku", envelope("alice@example.com", "bob@example.com"), tls="none")
    results = await run_all(s)
    rcpts = [r for r in results if r.stage is Stage.RCPT]
    assert [r.reply.code for r in rcpts if r.reply] == [250, 550]
    assert rcpts[1].reply is not None and rcpts[1].reply.enhanced == "5.1.1"
    assert s.accepted == ["alice@example.com"]
    assert lab.hosts["ku"].messages[0].recipients == ("alice@example.com",)


async def test_rcpt_limit_and_size_limit(lab_hosts) -> None:
    lab = await lab_hosts(
        few=HostBehaviour(kind="rcpt-limit", max_recipients=1),
        small=HostBehaviour(kind="size-limit", max_size=100),
    )
    factory = SessionFactory(lab)
    few = await run_all(factory("few", envelope("a@x.test", "b@x.test"), tls="none"))
    assert [r.reply.code for r in few if r.stage is Stage.RCPT and r.reply] == [250, 452]
    small = await run_all(factory("small", envelope(message=b"x" * 500), tls="none"))
    mail = next(r for r in small if r.stage is Stage.MAIL)
    assert mail.reply is not None and mail.reply.code == 552
    assert stages(small)[-1] == "quit"


async def test_drop_at_rcpt_is_a_dropped_outcome(lab_hosts) -> None:
    lab = await lab_hosts(cut=HostBehaviour(kind="drop", drop_at="rcpt"))
    s = SessionFactory(lab)("cut", tls="none")
    results = await run_all(s)
    assert results[-1].stage is Stage.RCPT
    assert results[-1].outcome is Outcome.DROPPED and results[-1].reply is None
    assert s.next_stage() is None


async def test_slow_host_trips_the_reply_timeout(lab_hosts) -> None:
    lab = await lab_hosts(slow=HostBehaviour(kind="slow", delay_s=1.0))
    s = SessionFactory(lab)("slow", timeouts=Timeouts(connect=2, reply=0.2))
    await s.connect()
    result = await s.greeting()
    assert result.outcome is Outcome.TIMEOUT


async def test_starttls_shows_certificate_facts_and_verifies_with_the_lab_trust(
    accept_lab: SessionFactory,
) -> None:
    s = accept_lab("accept", tls="optional", trust_pem=lab_trust())
    results = await run_all(s)
    assert stages(results)[:5] == ["connect", "greeting", "ehlo", "starttls", "ehlo"]
    tls = results[3].tls
    assert tls is not None and tls.verified and tls.version.startswith("TLS")
    assert "CN=mx.lab.test" in tls.subject and "DNS:mx.lab.test" in tls.sans
    tls_lines = [line.text for line in s.transcript if line.dir == "tls"]
    assert tls_lines[0].startswith("TLS started:") and "verifies for mx.lab.test" in tls_lines[-1]
    after = [line for line in s.transcript if line.stage is Stage.MAIL]
    assert after and all(line.encrypted for line in after if line.dir != "info")
    assert " ~> MAIL FROM" in to_text(s.transcript)


async def test_unverified_certificate_is_shown_not_fatal_unless_asked(
    accept_lab: SessionFactory,
) -> None:
    s = accept_lab("accept", tls="required")
    results = await run_all(s)
    tls = results[3].tls
    assert tls is not None and not tls.verified and "self-signed" in tls.verify_error
    assert codes(results)[-1] == 221
    strict = accept_lab("accept", tls="required", tls_verify=True)
    results = await run_all(strict)
    assert results[-1].stage is Stage.STARTTLS and results[-1].failure == "tls-unverified"
    assert strict.next_stage() is None


async def test_required_starttls_not_offered_stops_the_conversation(lab_hosts) -> None:
    lab = await lab_hosts(plain=HostBehaviour(kind="accept", starttls=False))
    s = SessionFactory(lab)("plain", tls="required")
    results = await run_all(s)
    assert stages(results) == ["connect", "greeting", "ehlo", "starttls", "quit"]
    assert results[3].reply is not None and results[3].reply.code == 454
    assert s.tls_info is None and not s.encrypted


async def test_auth_plain_and_login_never_show_the_secret(lab_hosts) -> None:
    secret = "s3cret-pass"
    lab = await lab_hosts(auth=HostBehaviour(kind="accept", auth=("bob", secret)))
    factory = SessionFactory(lab)
    for mech in ("PLAIN", "LOGIN"):
        env = envelope(credentials=Credentials("bob", secret))
        s = factory("auth", env, tls="none")
        for _ in range(3):
            await s.step()
        result = await s.auth(mech)
        assert result.reply is not None and result.reply.code == 235, result
        exported = to_text(s.transcript) + to_jsonl(s.transcript) + repr(s.steps)
        for form in ("s3cret", "czNjcmV0", "AGJvYgBzM2NyZXQtcGFzcw", "Ym9i"):
            assert form not in exported, (mech, form)
        if mech == "PLAIN":
            assert result.sent == ("AUTH PLAIN ****",)
        else:
            assert result.sent == ("AUTH LOGIN", "****", "****")
            assert [r.code for r in result.replies] == [334, 334, 235]
        await s.aclose()


async def test_wrong_password_is_535_and_ends_the_transaction(lab_hosts) -> None:
    lab = await lab_hosts(auth=HostBehaviour(kind="accept", auth=("bob", "right")))
    env = envelope(credentials=Credentials("bob", "wrong-one"))
    results = await run_all(SessionFactory(lab)("auth", env, tls="none"))
    assert codes(results)[-2:] == [535, 221]


async def test_dot_is_held_for_a_host_that_is_not_a_lab_host(accept_lab: SessionFactory) -> None:
    host, port = accept_lab.lab.endpoints["accept"]
    s = Session(host, envelope(), dialer=RealDialer(port), tls="none", timeouts=QUICK)
    assert not s.lab
    results = await run_all(s)
    assert stages(results)[-2:] == ["data", "dot"]
    assert results[-1].failure == "held" and results[-1].sent == ()
    assert s.next_stage() is Stage.DOT
    quit_step = await s.quit()
    assert quit_step.sent == ()  # in DATA, a QUIT would be message text
    await asyncio.sleep(0.05)
    assert accept_lab.lab.hosts["accept"].messages == []
    confirmed = Session(host, envelope(), dialer=RealDialer(port), tls="none", timeouts=QUICK)
    results = await run_all(confirmed, confirm_send=True)
    assert codes(results)[-2:] == [250, 221]
    assert len(accept_lab.lab.hosts["accept"].messages) == 1


async def test_large_message_reports_progress_and_shows_only_its_first_lines(
    accept_lab: SessionFactory,
) -> None:
    body = b"".join(b"line %06d\r\n" % i for i in range(100_000))
    s = accept_lab("accept", envelope(message=b"Subject: big\r\n\r\n" + body), tls="none")
    results = await run_all(s)
    assert codes(results)[-2:] == [250, 221]
    progress = [e for e in accept_lab.events if isinstance(e, DataProgress)]
    assert progress[0].sent == 0 and progress[-1].sent == progress[-1].total > len(body)
    dot = results[-2]
    assert len(dot.sent) == 50 + 2 and "more lines" in dot.sent[-2]
    assert accept_lab.lab.hosts["accept"].messages[0].data.endswith(b"line 099999\r\n")


async def test_rset_noop_and_raw_commands_do_not_disturb_the_path(
    accept_lab: SessionFactory,
) -> None:
    s = accept_lab("accept", tls="none")
    for _ in range(4):  # connect, greeting, ehlo, mail
        await s.step()
    assert s.next_stage() is Stage.RCPT
    vrfy = await s.raw("VRFY postmaster")
    assert vrfy.stage is Stage.RAW and vrfy.reply is not None and vrfy.reply.code == 252
    help_ = await s.raw("HELP")
    assert help_.reply is not None and help_.reply.klass == 2
    out_of_order = await s.raw("DATA")
    assert out_of_order.reply is not None and out_of_order.reply.code == 503
    assert (await s.noop()).reply.code == 250  # type: ignore[union-attr]
    assert s.next_stage() is Stage.RCPT
    assert (await s.rset()).ok
    assert s.next_stage() is Stage.MAIL
    bad = await s.raw("NOOP\x1b[31m")
    assert bad.failure == "not-sent" and s.connected
    await s.aclose()


async def test_ehlo_refused_falls_back_to_helo() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 old.test SMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            reply = {b"EHLO": b"502 5.5.1 no ESMTP here", b"HELO": b"250 old.test",
                     b"QUIT": b"221 bye"}.get(verb, b"250 ok")  # fmt: skip
            writer.write(reply + b"\r\n")
            if verb == b"QUIT":
                break
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        s = Session(LAB_ADDRESS, envelope(), dialer=LabDialer({LAB_ADDRESS: ("127.0.0.1", port)}),
                    timeouts=QUICK)  # fmt: skip
        results = await run_all(s)
        assert stages(results)[:5] == ["connect", "greeting", "ehlo", "helo", "mail"]
        assert codes(results)[2:4] == [502, 250]
        assert s.extensions == {}


async def serve_script(
    script: dict[bytes, bytes], after_ehlo: bytes = b"", ssl: Any = None
) -> asyncio.Server:
    """A few-line SMTP server: a reply per verb; `after_ehlo` is sent unasked, then it closes."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 tiny.test SMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            writer.write(script.get(verb, b"250 ok") + b"\r\n")
            if verb == b"EHLO" and after_ehlo:
                await asyncio.sleep(0.05)
                writer.write(after_ehlo)
                break
            if verb == b"QUIT":
                break
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ssl)


async def test_an_unsolicited_421_before_an_idle_close_is_shown_then_dropped() -> None:
    server = await serve_script({b"EHLO": b"250 tiny.test"}, b"421 4.4.2 idle timeout\r\n")
    port = server.sockets[0].getsockname()[1]
    async with server:
        s = Session(LAB_ADDRESS, envelope(), dialer=LabDialer({LAB_ADDRESS: ("127.0.0.1", port)}),
                    timeouts=QUICK)  # fmt: skip
        for _ in range(3):
            await s.step()
        await asyncio.sleep(0.2)
        result = await s.noop()
    assert result.outcome is Outcome.DROPPED and result.reply is None
    shown = [line.text for line in s.transcript if line.dir == "recv"]
    assert shown[-1].startswith("421 4.4.2 idle timeout [unsolicited")


async def test_smtputf8_is_asked_for_when_an_address_needs_it() -> None:
    server = await serve_script({b"EHLO": b"250-tiny.test\r\n250-SMTPUTF8\r\n250 8BITMIME"})
    port = server.sockets[0].getsockname()[1]
    async with server:
        env = envelope("j\u00f6rg@b\u00fccher.example")
        s = Session(LAB_ADDRESS, env, dialer=LabDialer({LAB_ADDRESS: ("127.0.0.1", port)}),
                    timeouts=QUICK)  # fmt: skip
        for _ in range(3):
            await s.step()
        mail = await s.step()
        await s.aclose()
    assert mail.stage is Stage.MAIL and mail.sent[0].endswith(" SMTPUTF8")


def test_lab_dialer_maps_documentation_addresses_in_any_spelling() -> None:
    d = LabDialer({"2001:db8::10": ("127.0.0.1", 2525), ("192.0.2.10", 587): ("127.0.0.1", 2587)})
    assert d.route("2001:0db8:0:0::10").port == 2525 and d.is_lab("[2001:db8::10]")
    assert d.route("192.0.2.10", 587).port == 2587 and not d.is_lab("192.0.2.10")
    assert not RealDialer().is_lab("127.0.0.1") and RealDialer(2525).route("::1").port == 2525


async def test_tls_on_connect_shows_the_certificate_before_the_greeting() -> None:
    from mxtui.lab.certs import lab_certificate

    context = lab_certificate("mx.lab.test").server_context()
    server = await serve_script({b"EHLO": b"250 tiny.test", b"QUIT": b"221 bye"}, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        s = Session(LAB_ADDRESS, envelope(), dialer=LabDialer({(LAB_ADDRESS, 465): ("127.0.0.1",
                    port)}), port=465, tls="on-connect", tls_name="mx.lab.test",
                    trust_pem=lab_trust(), timeouts=QUICK)  # fmt: skip
        for _ in range(3):
            await s.step()
        results = [*s.steps, await s.quit()]
    assert results[0].tls is not None and results[0].tls.verified
    assert codes(results) == [None, 220, 250, 221]
    text = to_text(s.transcript)
    assert text.index("=== TLS started") < text.index("<~  220 tiny.test")
    assert " -> " not in text and " ~> QUIT" in text


async def test_a_server_echoing_the_secret_cannot_leak_it_into_steps_or_exports() -> None:
    blob = base64.b64encode(b"\0bob\0hunter22").decode()
    server = await serve_script(
        {b"EHLO": b"250-tiny.test\r\n250 AUTH PLAIN", b"AUTH": f"535 bad {blob} hunter22".encode()}
    )
    port = server.sockets[0].getsockname()[1]
    async with server:
        env = envelope(credentials=Credentials("bob", "hunter22"))
        s = Session(LAB_ADDRESS, env, dialer=LabDialer({LAB_ADDRESS: ("127.0.0.1", port)}),
                    timeouts=QUICK)  # fmt: skip
        for _ in range(4):
            await s.step()
        await s.aclose()
    auth = s.steps[-1]
    assert auth.stage is Stage.AUTH and auth.reply is not None and auth.reply.code == 535
    everything = repr(s.steps) + to_text(s.transcript) + to_jsonl(s.transcript)
    assert "hunter22" not in everything and blob not in everything
    assert auth.reply.lines == ("535 bad **** ****",)


async def test_rset_after_a_refused_transaction_resumes_the_path_at_mail(lab_hosts) -> None:
    """The Phase machine: a refusal ends the standard path (QUIT next), RSET forgets the refused
    transaction and the path resumes where it stopped, with AUTH not tried twice."""
    lab = await lab_hosts(mx=HostBehaviour(kind="known-users", users=("alice",), auth=("u", "pw")))
    factory = SessionFactory(lab)
    env = envelope("nobody@example.com", credentials=Credentials("u", "wrong"))
    s = factory("mx", env, tls="none")
    for _ in range(4):  # connect, greeting, EHLO, AUTH (refused)
        await s.step()
    assert s.steps[-1].stage is Stage.AUTH and s.next_stage() is Stage.QUIT
    rset = await s.rset()
    assert rset.reply is not None and rset.reply.code == 250
    assert s.next_stage() is Stage.MAIL  # AUTH is not tried again on this connection
    await s.step()  # MAIL
    rcpt = await s.step()
    assert rcpt is not None and rcpt.reply is not None and rcpt.reply.code == 550
    assert s.next_stage() is Stage.QUIT  # nobody accepted: nothing to send
    await s.rset()
    assert s.next_stage() is Stage.MAIL and s.rcpt_index == 0
    await s.quit()


async def test_each_step_names_the_recipients_it_concerns_and_the_sender(lab_hosts) -> None:
    lab = await lab_hosts(
        mixed=HostBehaviour(kind="accept", rcpt_replies=(("bob", "450 4.2.1 later"),))
    )
    make = SessionFactory(lab)
    env = envelope("alice@example.com", "bob@example.com", "carol@example.com")
    async with make("mixed", env) as session:
        done = await run_all(session)
    by_stage = {}
    for step in done:
        by_stage.setdefault(str(step.stage), []).append(step)
    rcpts = by_stage["rcpt"]
    assert [s.recipient for s in rcpts] == ["alice@example.com", "bob@example.com",
                                            "carol@example.com"]  # fmt: skip
    assert [s.reply.code for s in rcpts if s.reply] == [250, 450, 250]
    # DATA and the message concern the recipients accepted, not bob.
    assert by_stage["dot"][0].recipients == ("alice@example.com", "carol@example.com")
    assert by_stage["ehlo"][0].recipients == env.recipients  # before RCPT: all of them
    assert {s.sender for s in done} == {"sender@example.org"}
    assert done[-1].to_json()["recipient"] == "alice@example.com"
