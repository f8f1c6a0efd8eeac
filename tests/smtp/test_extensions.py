"""ESMTP extensions and swaks' transport options, against real Postfix where it speaks them
(PIPELINING, CHUNKING, SMTPUTF8, 8BITMIME, DSN, SIZE, XCLIENT, TLS versions and ciphers, a
client certificate) and lab hosts where it cannot (LMTP: Postfix is only an LMTP client;
REQUIRETLS: not in Postfix 3.7)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Iterator

import pytest
from postfix_peer import HOSTNAME, USER, Postfix
from smtp_support import QUICK, SessionFactory, envelope, lab_trust

from mxtui.lab.certs import lab_certificate
from mxtui.lab.hosts import HostBehaviour
from mxtui.model import DSNRequest, Envelope, Stage, StepResult
from mxtui.smtp import RealDialer, Session
from mxtui.smtp.tlsconf import TLSClientOptions, parse_protocols

NOBODY = "nobody@example.com"


@pytest.fixture(scope="module")
def pf(postfix_module: Postfix) -> Postfix:
    return postfix_module


@pytest.fixture(scope="module")
def postfix_module(request: pytest.FixtureRequest) -> Iterator[Postfix]:
    """A Postfix that lets 127.0.0.1 use XCLIENT and logs TLS details."""
    request.getfixturevalue("postfix_available")
    extra = "smtpd_authorized_xclient_hosts = 127.0.0.1\nsmtpd_tls_loglevel = 1\n"
    extra += "smtpd_tls_ask_ccert = yes\n"
    with Postfix(main_cf=extra) as instance:
        yield instance


@pytest.fixture(scope="module")
def small_postfix(request: pytest.FixtureRequest) -> Iterator[Postfix]:
    """A Postfix that takes messages up to 2000 bytes and has SMTPUTF8 off."""
    request.getfixturevalue("postfix_available")
    with Postfix(main_cf="message_size_limit = 2000\nsmtputf8_enable = no\n") as instance:
        yield instance


def session(pf: Postfix, *recipients: str, env: Envelope | None = None, **kw: object) -> Session:
    env = env or Envelope("sender@example.org", recipients, ehlo_name="client.example.org")
    kw.setdefault("tls", "none")
    return Session("127.0.0.1", env, dialer=RealDialer(pf.port), timeouts=QUICK,  # type: ignore[arg-type]
                   tls_name=HOSTNAME, trust_pem=pf.cert.cert_pem, **kw)  # fmt: skip


async def run(s: Session, *, confirm_send: bool = False) -> list[StepResult]:
    for _ in range(40):
        result = await s.step(confirm_send=confirm_send)
        if result is None or result.failure == "held":
            break
    await s.aclose()
    return s.steps


def by_stage(results: list[StepResult], stage: Stage) -> list[StepResult]:
    return [r for r in results if r.stage is stage]


def notes(s: Session) -> list[str]:
    return [line.text for line in s.transcript if line.dir == "info"]


async def test_pipelining_sends_mail_rcpt_data_as_one_burst_and_pairs_the_replies(
    pf: Postfix,
) -> None:
    s = session(pf, USER, NOBODY, pipelining=True)
    results = await run(s)
    lines = list(s.transcript)
    burst = [i for i, line in enumerate(lines) if line.dir == "sent" and i > 0]
    sent = [lines[i].text.split(":")[0].split(" ")[0] for i in burst]
    assert sent[1:5] == ["MAIL", "RCPT", "RCPT", "DATA"]
    first_reply_after = next(i for i in range(burst[1], len(lines)) if lines[i].dir == "recv")
    assert first_reply_after > burst[4]  # all four went before any reply was read
    assert [r.reply.code for r in results if r.stage in (Stage.MAIL, Stage.RCPT, Stage.DATA)
            and r.reply] == [250, 250, 550, 354]  # fmt: skip
    assert all("PIPELINING" in r.uses for r in results if r.stage is Stage.RCPT)
    assert any("replies paired in order: MAIL → 250; RCPT → 250; RCPT → 550; DATA → 354" in n
               for n in notes(s))  # fmt: skip
    assert results[-1].failure == "held"


async def test_pipelining_with_chunking_sends_each_recipient_once(pf: Postfix) -> None:
    s = session(pf, USER, NOBODY, pipelining=True, chunking=True)
    results = await run(s, confirm_send=True)
    rcpts = [line.text for line in s.transcript if line.dir == "sent" and line.text[:4] == "RCPT"]
    assert rcpts == [f"RCPT TO:<{USER}>", f"RCPT TO:<{NOBODY}>"]
    assert [r.stage for r in results][3:7] == [Stage.MAIL, Stage.RCPT, Stage.RCPT, Stage.DOT]
    dot = by_stage(results, Stage.DOT)[0]
    assert dot.sent[0].startswith("BDAT ") and dot.reply is not None and dot.reply.code == 250


async def test_chunking_sends_bdat_chunks_and_last_only_when_confirmed(pf: Postfix) -> None:
    message = b"Subject: chunks\r\n\r\n" + b"line of text\r\n" * 40
    env = Envelope("sender@example.org", (USER,), ehlo_name="c.example.org", message=message)
    held = session(pf, env=env, chunking=True, chunk_size=200)
    results = await run(held)
    assert Stage.DATA not in [r.stage for r in results]
    assert results[-1].failure == "held" and "BDAT … LAST" in results[-1].error
    assert not any(line.text.startswith("BDAT") for line in held.transcript)

    s = session(pf, env=env, chunking=True, chunk_size=200)
    results = await run(s, confirm_send=True)
    dot = by_stage(results, Stage.DOT)[0]
    headers = [line for line in dot.sent if line.startswith("BDAT")]
    assert headers[0] == "BDAT 200" and headers[-1] == f"BDAT {len(message) - 400} LAST"
    assert len(headers) == 3 and [r.code for r in dot.replies] == [250, 250, 250]
    assert "queued as" in dot.replies[-1].text and dot.uses == ("CHUNKING",)
    mail = by_stage(results, Stage.MAIL)[0]
    assert f"SIZE={len(message)}" in mail.sent[0]  # BDAT's size: no dot-stuffing, no dot


async def test_smtputf8_and_8bitmime_are_declared_when_the_message_needs_them(
    pf: Postfix,
) -> None:
    body = "Subject: café\r\n\r\nnaïve text\r\n".encode()
    env = Envelope("josé@example.org", (USER,), ehlo_name="c.example.org", message=body)
    s = session(pf, env=env)
    results = await run(s, confirm_send=True)
    mail = by_stage(results, Stage.MAIL)[0]
    assert "BODY=8BITMIME" in mail.sent[0] and "SMTPUTF8" in mail.sent[0]
    assert set(mail.uses) >= {"SIZE", "8BITMIME", "SMTPUTF8"}
    assert mail.reply is not None and mail.reply.code == 250
    dot = by_stage(results, Stage.DOT)[0]
    assert dot.reply is not None and dot.reply.code == 250
    assert any(n.startswith("MAIL used: SIZE, 8BITMIME, SMTPUTF8") for n in notes(s))


async def test_an_international_address_is_not_sent_to_a_server_without_smtputf8(
    small_postfix: Postfix,
) -> None:
    env = Envelope("josé@example.org", (USER,), ehlo_name="c.example.org")
    s = session(small_postfix, env=env)
    results = await run(s)
    mail = by_stage(results, Stage.MAIL)[0]
    assert mail.failure == "not-sent" and "SMTPUTF8" in mail.error and "RFC 6531" in mail.error
    assert not any(line.text.startswith("MAIL") for line in s.transcript if line.dir == "sent")


async def test_dsn_parameters_go_to_a_server_that_offers_dsn(pf: Postfix) -> None:
    dsn = DSNRequest(notify=("success", "failure"), ret="hdrs", envid="id+1 x", orcpt=True)
    env = Envelope("sender@example.org", (USER,), ehlo_name="c.example.org", dsn=dsn)
    s = session(pf, env=env)
    results = await run(s, confirm_send=True)
    mail, rcpt = by_stage(results, Stage.MAIL)[0], by_stage(results, Stage.RCPT)[0]
    assert mail.sent[0].endswith("RET=HDRS ENVID=id+2B1+20x") and "DSN" in mail.uses
    assert rcpt.sent[0] == f"RCPT TO:<{USER}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{USER}"
    assert (mail.reply and mail.reply.code, rcpt.reply and rcpt.reply.code) == (250, 250)
    dot = by_stage(results, Stage.DOT)[0]
    assert dot.reply is not None and dot.reply.code == 250


async def test_dsn_to_a_server_without_it_is_said_and_not_sent(accept_lab: SessionFactory) -> None:
    env = envelope(dsn=DSNRequest(notify=("never",)))
    s = accept_lab("accept", env, tls="none")
    results = await run(s)
    assert "NOTIFY" not in by_stage(results, Stage.RCPT)[0].sent[0]
    assert any("does not offer DSN" in n for n in notes(s))


async def test_size_is_declared_and_a_message_over_the_limit_meets_552(
    small_postfix: Postfix,
) -> None:
    big = b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 0 + (b"y" * 78 + b"\r\n") * 60
    env = Envelope("sender@example.org", (USER,), ehlo_name="c.example.org", message=big)
    s = session(small_postfix, env=env)
    results = await run(s)
    mail = by_stage(results, Stage.MAIL)[0]
    assert f"SIZE={len(big)}" in mail.sent[0]
    assert mail.reply is not None and (mail.reply.code, mail.reply.enhanced) == (552, "5.3.4")
    assert any("over the server's declared SIZE limit (2000 bytes)" in n for n in notes(s))
    assert s.next_stage() is None or by_stage(results, Stage.QUIT)


async def test_xclient_tells_postfix_the_client_and_hello_follows_anew(pf: Postfix) -> None:
    s = session(pf, USER, xclient=(("ADDR", "192.0.2.7"), ("NAME", "client.example.net")))
    results = await run(s)
    stages = [r.stage for r in results]
    assert stages[:5] == [Stage.CONNECT, Stage.GREETING, Stage.EHLO, Stage.XCLIENT, Stage.EHLO]
    x = by_stage(results, Stage.XCLIENT)[0]
    assert x.sent == ("XCLIENT ADDR=192.0.2.7 NAME=client.example.net",)
    assert x.reply is not None and x.reply.code == 220 and x.uses == ("XCLIENT",)
    deadline = time.monotonic() + 5
    while "client.example.net[192.0.2.7]" not in pf.log_text() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert "client.example.net[192.0.2.7]" in pf.log_text()


async def test_xclient_is_not_sent_where_it_is_not_offered(small_postfix: Postfix) -> None:
    s = session(small_postfix, USER, xclient=(("ADDR", "192.0.2.7"),))
    results = await run(s)
    x = by_stage(results, Stage.XCLIENT)[0]
    assert x.failure == "not-sent" and x.error == "Host did not advertise XCLIENT"
    assert s.steps[-1].stage is Stage.QUIT


async def test_protocol_smtp_says_helo_and_uses_no_extension(pf: Postfix) -> None:
    s = session(pf, USER, protocol="smtp", tls="optional")
    results = await run(s)
    assert [r.stage for r in results][:4] == [Stage.CONNECT, Stage.GREETING, Stage.HELO,
                                               Stage.MAIL]  # fmt: skip
    assert by_stage(results, Stage.MAIL)[0].sent[0] == "MAIL FROM:<sender@example.org>"


async def test_postfix_is_no_lmtp_server(pf: Postfix) -> None:
    s = session(pf, USER, protocol="lmtp")
    results = await run(s)
    lhlo = by_stage(results, Stage.EHLO)[0]
    assert lhlo.sent[0].startswith("LHLO ") and lhlo.reply is not None
    assert lhlo.reply.klass == 5


async def test_lmtp_replies_once_per_recipient_after_the_message(lab_hosts) -> None:
    lab = await lab_hosts(lmtp=HostBehaviour(kind="accept", lmtp=True, starttls=False,
                          lmtp_replies=(("bob", "452 4.2.2 Mailbox full"),)))  # fmt: skip
    factory = SessionFactory(lab)
    s = factory("lmtp", envelope("alice@example.com", "bob@example.com"), protocol="lmtp",
                tls="none")  # fmt: skip
    results = await run(s)
    assert by_stage(results, Stage.EHLO)[0].sent[0].startswith("LHLO")
    dot = by_stage(results, Stage.DOT)[0]
    assert [(r.code, r.enhanced) for r in dot.replies] == [(250, "2.0.0"), (452, "4.2.2")]
    assert dot.reply is not None and dot.reply.code == 452  # the worst one decides
    said = notes(s)
    assert "LMTP: <alice@example.com> 250: delivered" in said
    assert "LMTP: <bob@example.com> 452: deferred (try again later)" in said


async def test_requiretls_goes_to_a_server_that_offers_it_over_tls(lab_hosts) -> None:
    lab = await lab_hosts(mx=HostBehaviour(kind="accept", requiretls=True))
    factory = SessionFactory(lab)
    s = factory("mx", envelope(requiretls=True), tls="required", trust_pem=lab_trust())
    results = await run(s)
    mail = by_stage(results, Stage.MAIL)[0]
    assert mail.sent[0].endswith(" REQUIRETLS") and mail.reply and mail.reply.code == 250
    assert "REQUIRETLS" in mail.uses
    assert len(lab.hosts["mx"].messages) == 1


async def test_requiretls_is_not_sent_to_postfix_which_does_not_offer_it(pf: Postfix) -> None:
    env = Envelope("sender@example.org", (USER,), ehlo_name="c.example.org", requiretls=True)
    s = session(pf, env=env, tls="required")
    results = await run(s)
    mail = by_stage(results, Stage.MAIL)[0]
    assert mail.failure == "not-sent" and "RFC 8689" in mail.error


@pytest.mark.parametrize("version", ["tlsv1_2", "tlsv1_3"])
async def test_tls_protocol_choice_reaches_postfix(pf: Postfix, version: str) -> None:
    opts = TLSClientOptions(protocols=parse_protocols(version))
    s = session(pf, USER, tls="required", tls_options=opts)
    results = await run(s)
    tls = by_stage(results, Stage.STARTTLS)[0].tls
    assert tls is not None and tls.version == {"tlsv1_2": "TLSv1.2", "tlsv1_3": "TLSv1.3"}[version]


async def test_tls_cipher_choice_reaches_postfix(pf: Postfix) -> None:
    opts = TLSClientOptions(protocols=parse_protocols("tlsv1_2"),
                            ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")  # fmt: skip
    s = session(pf, USER, tls="required", tls_options=opts)
    results = await run(s)
    tls = by_stage(results, Stage.STARTTLS)[0].tls
    assert tls is not None and tls.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256"


async def test_a_client_certificate_is_presented_to_postfix(pf: Postfix, tmp_path) -> None:
    cert = lab_certificate("client.example.org")
    (tmp_path / "client.pem").write_bytes(cert.cert_pem + cert.key_pem)  # one file: cert + key
    before = pf.log_text().count("client-signature")
    opts = TLSClientOptions(cert=str(tmp_path / "client.pem"))
    s = session(pf, USER, tls="required", tls_options=opts)
    await run(s)
    deadline = time.monotonic() + 5
    while pf.log_text().count("client-signature") == before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    # Postfix (smtpd_tls_ask_ccert) logs the client's signature only when one was presented.
    assert pf.log_text().count("client-signature ECDSA") == before + 1


async def test_sni_is_the_name_asked_for() -> None:
    seen: list[str | None] = []
    ctx = lab_certificate("mx.lab.test").server_context()
    ctx.sni_callback = lambda _sock, name, _ctx: seen.append(name)  # type: ignore[assignment]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 tls.test ESMTP\r\n")
        await writer.drain()
        await reader.readline()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        for sni, expected in (("sni.example.net", "sni.example.net"), (None, "mx.lab.test")):
            env = Envelope("a@example.org", ("b@example.com",))
            s = Session("127.0.0.1", env, dialer=RealDialer(port), tls="on-connect",
                        tls_name="mx.lab.test", timeouts=QUICK,
                        tls_options=TLSClientOptions(sni=sni))  # fmt: skip
            await s.connect()
            await s.greeting()
            await s.aclose()
            assert seen[-1] == expected
    finally:
        server.close()
        await server.wait_closed()


def test_tls_protocol_words_follow_swaks() -> None:
    assert parse_protocols("no_tlsv1,no_tlsv1_1") == (ssl.TLSVersion.TLSv1_2,
                                                     ssl.TLSVersion.TLSv1_3)  # fmt: skip
    assert parse_protocols("TLSv1.3") == (ssl.TLSVersion.TLSv1_3,)
    for bad in ("sslv3", "tlsv1,tlsv1_3", "no_tlsv1,no_tlsv1_1,no_tlsv1_2,no_tlsv1_3"):
        with pytest.raises(ValueError):
            parse_protocols(bad)


async def test_ipv4_only_and_a_local_address(pf: Postfix) -> None:
    dialer = RealDialer(pf.port, family=socket.AF_INET, local_address="127.0.0.2")
    env = Envelope("a@example.org", (USER,))
    s = Session("localhost", env, dialer=dialer, tls="none", timeouts=QUICK)
    connect = await s.connect()
    assert connect.ok
    assert s._protocol is not None and s._protocol.transport is not None
    assert s._protocol.transport.get_extra_info("sockname")[0] == "127.0.0.2"
    await s.aclose()


async def test_the_apps_connection_choices_pipeline_to_postfix(pf: Postfix) -> None:
    """The session the app steps (`E`: --pipeline) against a real host bursts as the CLI does."""
    from mxtui.desk.connection import Connection

    env = Envelope("sender@example.org", (USER, NOBODY), ehlo_name="client.example.org")
    s = Connection(pipeline=True, tls="none").open_session(
        "127.0.0.1", env, host=HOSTNAME, dialer=RealDialer(pf.port), timeouts=QUICK
    )
    await run(s)
    assert any("replies paired in order: MAIL → 250; RCPT → 250; RCPT → 550; DATA → 354" in n
               for n in notes(s))  # fmt: skip
