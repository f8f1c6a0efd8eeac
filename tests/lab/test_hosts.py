"""Lab SMTP hosts over real loopback sockets, driven by aiosmtplib and raw asyncio streams."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import re
import socket
import ssl

import aiosmtplib
import pytest

from mxtui.delivery import SimClock
from mxtui.lab.certs import lab_certificate
from mxtui.lab.hosts import (
    HostBehaviour,
    LabSMTP,
    LabSMTPHost,
    behaviour_from_dict,
    relay_profiles,
    with_enhanced_code,
    without_enhanced_code,
)
from mxtui.smtp.replies import ENHANCED


class Wire:
    """A raw SMTP client on asyncio streams: sees every byte, so the tests can too."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, address: tuple[str, int]) -> Wire:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*address), 5)
        return cls(reader, writer)

    async def reply(self, timeout: float = 5) -> list[str]:
        lines: list[str] = []
        while True:
            raw = await asyncio.wait_for(self.reader.readline(), timeout)
            if not raw:
                raise ConnectionError(f"closed after {lines!r}")
            line = raw.decode().rstrip("\r\n")
            lines.append(line)
            if line[3:4] != "-":
                return lines

    async def cmd(self, line: str, timeout: float = 5) -> list[str]:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()
        return await self.reply(timeout)

    async def closed(self, timeout: float = 5) -> bool:
        """True when the server has closed (EOF or reset) without sending anything more."""
        try:
            data = await asyncio.wait_for(self.reader.read(1), timeout)
        except ConnectionResetError:
            return True
        return data == b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await self.writer.wait_closed()


def smtp_client(host: LabSMTPHost, **kw) -> aiosmtplib.SMTP:
    kw.setdefault("timeout", 5)
    return aiosmtplib.SMTP(hostname=host.address[0], port=host.address[1], start_tls=False, **kw)


# --------------------------------------------------------------------------------------------
# accept
# --------------------------------------------------------------------------------------------


async def test_accept_host_takes_a_message_and_records_envelope_and_bytes():
    async with LabSMTPHost("mx1", HostBehaviour("accept")) as host:
        client = smtp_client(host)
        greeting = await client.connect()
        assert greeting.code == 220 and "mx.lab.test" in greeting.message
        await client.ehlo(hostname="client.test")
        assert (await client.mail("alice@example.org")).message.startswith("2.1.0")
        assert (await client.rcpt("bob@example.net")).message.startswith("2.1.5")
        message = b"Subject: hi\r\n\r\n.leading dot\r\nbody\r\n"
        reply = await client.data(message)
        assert reply.code == 250 and reply.message.startswith("2.0.0")
        await client.quit()
    [msg] = host.messages
    assert msg.mail_from == "alice@example.org"
    assert msg.recipients == ("bob@example.net",)
    assert msg.data == message  # the client's dot-stuffing is undone
    assert msg.helo == "client.test" and not msg.tls and msg.auth_user is None
    assert msg.peer[0] == "127.0.0.1"
    assert host.connections == 1


async def test_every_reply_after_ehlo_carries_an_enhanced_status_code():
    async with LabSMTPHost("mx1", HostBehaviour("accept")) as host:
        w = await Wire.open(host.address)
        await w.reply()
        ehlo = await w.cmd("EHLO client.test")
        assert "250-ENHANCEDSTATUSCODES" in ehlo
        replies = {
            "MAIL": await w.cmd("MAIL FROM:<a@example.org>"),
            "RCPT": await w.cmd("RCPT TO:<b@example.net>"),
            "NOOP": await w.cmd("NOOP"),
            "RSET": await w.cmd("RSET"),
            "VRFY": await w.cmd("VRFY b@example.net"),
            "bogus": await w.cmd("FROB"),
            "out of order": await w.cmd("DATA"),
            "bad syntax": await w.cmd("MAIL TO:<x>"),
            "STARTTLS arg": await w.cmd("STARTTLS now"),
        }
        quit_reply = await w.cmd("QUIT")
        await w.close()
    assert replies["MAIL"] == ["250 2.1.0 Sender OK"]
    assert replies["RCPT"] == ["250 2.1.5 Recipient OK"]
    assert replies["NOOP"] == ["250 2.0.0 OK"]
    assert replies["bogus"][0].startswith("500 5.5.2 ")
    assert replies["out of order"][0].startswith("503 5.5.1 ")
    for name, lines in replies.items():
        for line in lines:
            assert re.match(rf"^\d{{3}}[ -]{ENHANCED} ", line), (name, line)
    assert quit_reply == ["221 2.0.0 Bye"]


def test_enhanced_code_is_added_once_and_by_command():
    assert with_enhanced_code("250 OK", "MAIL") == "250 2.1.0 OK"
    assert with_enhanced_code("250 OK", "RCPT") == "250 2.1.5 OK"
    assert with_enhanced_code("250 OK", "DATA") == "250 2.0.0 OK"
    assert with_enhanced_code("552 Error: too much", "DATA") == "552 5.3.4 Error: too much"
    assert with_enhanced_code("250 2.1.0 OK", "MAIL") == "250 2.1.0 OK"
    assert with_enhanced_code("354 End data", "DATA") == "354 End data"
    assert with_enhanced_code("221", "QUIT") == "221 2.0.0"


async def test_hosts_in_a_group_get_their_own_ports_and_all_stop():
    lab = LabSMTP({"a": HostBehaviour("accept"), "b": HostBehaviour("refuse")})
    async with lab:
        assert set(lab.endpoints) == {"a", "b"}
        ports = {port for _, port in lab.endpoints.values()}
        assert len(ports) == 2 and 0 not in ports
        assert all(h.running for h in lab.hosts.values())
    assert not any(h.running for h in lab.hosts.values())
    with pytest.raises(OSError):
        await asyncio.open_connection(*lab.endpoints["a"])


def test_a_non_loopback_address_is_refused():
    with pytest.raises(ValueError, match="loopback only"):
        LabSMTPHost("x", HostBehaviour("accept"), host="0.0.0.0")
    with pytest.raises(ValueError, match="loopback only"):
        LabSMTPHost("x", HostBehaviour("accept"), host="example.org")


# --------------------------------------------------------------------------------------------
# connection-level behaviours: refuse, silent, greetings
# --------------------------------------------------------------------------------------------


async def test_refuse_host_refuses_connections_and_keeps_its_port_reserved():
    async with LabSMTPHost("down", HostBehaviour("refuse")) as host:
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*host.address)
        other = socket.socket()
        with pytest.raises(OSError) as taken:
            other.bind(host.address)
        other.close()
        assert taken.value.errno == errno.EADDRINUSE
    assert host.connections == 0


async def test_silent_host_accepts_but_never_greets():
    async with LabSMTPHost("tarpit", HostBehaviour("silent")) as host:
        w = await Wire.open(host.address)
        w.writer.write(b"EHLO client.test\r\n")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(w.reader.read(1), 0.5)
        assert host.connections == 1
        await w.close()


async def test_silent_host_closes_by_itself_after_its_limit(monkeypatch):
    monkeypatch.setattr("mxtui.lab.hosts.protocol.SILENT_CLOSE_S", 0.3)
    async with LabSMTPHost("tarpit", HostBehaviour("silent")) as host:
        w = await Wire.open(host.address)
        assert await w.closed(timeout=5)
        await w.close()


async def test_stop_cuts_connections_still_open():
    host = LabSMTPHost("tarpit", HostBehaviour("silent"))
    await host.start()
    w = await Wire.open(host.address)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(host.stop(), 5)
    assert await w.closed(timeout=5)
    await w.close()


@pytest.mark.parametrize(
    ("kind", "first_line"),
    [
        ("greet-421", "421 4.3.2 mx.lab.test "),
        ("greet-521", "521 5.3.2 mx.lab.test "),
    ],
)
async def test_refusing_greeting_then_close(kind, first_line):
    async with LabSMTPHost("busy", HostBehaviour(kind)) as host:
        w = await Wire.open(host.address)
        [line] = await w.reply()
        assert line.startswith(first_line)
        assert await w.closed()
        await w.close()


async def test_greet_554_waits_for_quit_answering_503_meanwhile():
    async with LabSMTPHost("nomail", HostBehaviour("greet-554")) as host:
        w = await Wire.open(host.address)
        [line] = await w.reply()
        assert line.startswith("554 5.3.2 mx.lab.test ")
        assert (await w.cmd("EHLO client.test"))[0].startswith("503 5.5.1 ")
        assert (await w.cmd("MAIL FROM:<a@example.org>"))[0].startswith("503 5.5.1 ")
        assert await w.cmd("QUIT") == ["221 2.0.0 Bye"]
        assert await w.closed()
        await w.close()


async def test_greeting_and_ehlo_name_follow_the_hostname_setting():
    async with LabSMTPHost("mx", HostBehaviour("accept", hostname="mx2.lab.test")) as host:
        w = await Wire.open(host.address)
        assert (await w.reply())[0].startswith("220 mx2.lab.test ")
        assert (await w.cmd("EHLO c.test"))[0] == "250-mx2.lab.test"
        await w.cmd("QUIT")
        await w.close()


# --------------------------------------------------------------------------------------------
# greylist, known users, recipient and size limits
# --------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _rcpt(host: LabSMTPHost, sender: str, rcpts: list[str]) -> list[str]:
    """One connection: MAIL then RCPT per recipient; returns the RCPT reply lines."""
    w = await Wire.open(host.address)
    await w.reply()
    await w.cmd("EHLO client.test")
    assert (await w.cmd(f"MAIL FROM:<{sender}>"))[0].startswith("250 ")
    out = [(await w.cmd(f"RCPT TO:<{r}>"))[0] for r in rcpts]
    await w.cmd("QUIT")
    await w.close()
    return out


async def test_greylist_defers_a_triplet_until_it_retries_after_the_delay():
    clock = FakeClock()
    behaviour = HostBehaviour("greylist", greylist_delay_s=300)
    async with LabSMTPHost("grey", behaviour, clock=clock) as host:
        [first] = await _rcpt(host, "a@example.org", ["b@example.net"])
        assert first.startswith("450 4.2.0 ")
        clock.now += 299
        [early] = await _rcpt(host, "a@example.org", ["b@example.net"])
        assert early.startswith("450 4.2.0 "), "a retry before the delay is still deferred"
        clock.now += 1
        passed, new = await _rcpt(host, "a@example.org", ["b@example.net", "c@example.net"])
        assert passed == "250 2.1.5 Recipient OK"
        assert new.startswith("450 4.2.0 "), "another recipient is another triplet"
        [other_sender] = await _rcpt(host, "z@example.org", ["b@example.net"])
        assert other_sender.startswith("450 4.2.0 ")


async def test_known_users_accepts_local_parts_and_addresses_and_rejects_others():
    behaviour = HostBehaviour("known-users", users=("alice", "Bob@Example.NET"))
    async with LabSMTPHost("mx", behaviour) as host:
        replies = await _rcpt(
            host,
            "s@example.org",
            ["alice@example.net", "ALICE@other.test", "bob@example.net", "bob@other.test", "eve@x"],
        )
    assert replies[:3] == ["250 2.1.5 Recipient OK"] * 3
    assert replies[3].startswith("550 5.1.1 <bob@other.test>")
    assert replies[4].startswith("550 5.1.1 <eve@x>")


async def test_rcpt_limit_answers_452_after_n_recipients_per_transaction():
    async with LabSMTPHost("mx", HostBehaviour("rcpt-limit", max_recipients=2)) as host:
        w = await Wire.open(host.address)
        await w.reply()
        await w.cmd("EHLO c.test")
        await w.cmd("MAIL FROM:<s@example.org>")
        got = [(await w.cmd(f"RCPT TO:<r{i}@example.net>"))[0] for i in range(3)]
        assert got[:2] == ["250 2.1.5 Recipient OK"] * 2
        assert got[2].startswith("452 4.5.3 ")
        await w.cmd("RSET")
        await w.cmd("MAIL FROM:<s@example.org>")
        assert (await w.cmd("RCPT TO:<r9@example.net>"))[0].startswith("250 "), "RSET resets"
        await w.cmd("QUIT")
        await w.close()


async def test_size_limit_advertises_size_and_rejects_bigger_messages_with_552():
    async with LabSMTPHost("mx", HostBehaviour("size-limit", max_size=1000)) as host:
        w = await Wire.open(host.address)
        await w.reply()
        assert "250-SIZE 1000" in await w.cmd("EHLO c.test")
        [declared] = await w.cmd("MAIL FROM:<s@example.org> SIZE=1001")
        assert declared.startswith("552 5.3.4 ")
        await w.cmd("MAIL FROM:<s@example.org> SIZE=900")
        await w.cmd("RCPT TO:<r@example.net>")
        assert (await w.cmd("DATA"))[0].startswith("354 ")
        w.writer.write(b"x" * 70 + b"\r\n")
        [too_big] = await w.cmd("\r\n".join(["y" * 70] * 20) + "\r\n.")
        assert too_big.startswith("552 5.3.4 ")
        await w.cmd("MAIL FROM:<s@example.org>")
        await w.cmd("RCPT TO:<r@example.net>")
        await w.cmd("DATA")
        assert (await w.cmd("small\r\n."))[0].startswith("250 2.0.0 ")
        await w.cmd("QUIT")
        await w.close()
    assert [m.data for m in host.messages] == [b"small\r\n"]


async def test_slow_host_delays_each_reply_once_not_each_line():
    async with LabSMTPHost("mx", HostBehaviour("slow", delay_s=0.3)) as host:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        w = await Wire.open(host.address)
        await w.reply()
        t1 = loop.time()
        ehlo = await w.cmd("EHLO c.test")
        t2 = loop.time()
        await w.cmd("QUIT")
        await w.close()
    assert t1 - t0 >= 0.3
    assert t2 - t1 >= 0.3
    assert len(ehlo) >= 6
    assert t2 - t1 < 0.3 * len(ehlo), "the delay is per reply, not per line"


# --------------------------------------------------------------------------------------------
# drop at a stage
# --------------------------------------------------------------------------------------------

STEPS = [
    ("ehlo", "EHLO c.test"),
    ("mail", "MAIL FROM:<s@example.org>"),
    ("rcpt", "RCPT TO:<r@example.net>"),
    ("data", "DATA"),
    ("dot", "Subject: x\r\n\r\nbody\r\n."),
]


@pytest.mark.parametrize("stage", ["greeting", *[s for s, _ in STEPS]])
async def test_drop_host_cuts_the_connection_at_its_stage_without_a_reply(stage):
    async with LabSMTPHost("mx", HostBehaviour("drop", drop_at=stage)) as host:
        w = await Wire.open(host.address)
        if stage != "greeting":
            assert (await w.reply())[0].startswith("220 ")
            for name, line in STEPS:
                if name == stage:
                    w.writer.write(line.encode() + b"\r\n")
                    break
                assert (await w.cmd(line))[0][0] in "23"
        assert await w.closed()
        await w.close()
    assert host.messages == []


# --------------------------------------------------------------------------------------------
# STARTTLS and AUTH
# --------------------------------------------------------------------------------------------


async def test_starttls_with_the_generated_certificate_verifies_for_name_and_loopback_ip():
    cert = lab_certificate("mx.lab.test")
    async with LabSMTPHost("mx", HostBehaviour("accept")) as host:
        for server_name in ("mx.lab.test", "127.0.0.1"):
            ctx = cert.client_context()
            ctx.verify_flags |= getattr(ssl, "VERIFY_X509_STRICT", 0)
            client = smtp_client(host, tls_context=ctx)
            await client.connect()
            await client.ehlo()
            assert client.supports_extension("starttls")
            reply = await client.starttls(server_hostname=server_name)
            assert reply.code == 220 and reply.message.startswith("2.0.0")
            peer = client.transport.get_extra_info("peercert")
            assert dict(x[0] for x in peer["subject"])["commonName"] == "mx.lab.test"
            assert ("DNS", "mx.lab.test") in peer["subjectAltName"]
            assert ("IP Address", "127.0.0.1") in peer["subjectAltName"]
            await client.ehlo()
            assert not client.supports_extension("starttls")
            await client.sendmail("a@example.org", ["b@example.net"], b"Subject: t\r\n\r\nx\r\n")
            await client.quit()
    assert [m.tls for m in host.messages] == [True, True]


async def test_a_client_that_does_not_trust_the_lab_certificate_fails_verification():
    async with LabSMTPHost("mx", HostBehaviour("accept")) as host:
        client = smtp_client(host, tls_context=ssl.create_default_context())
        await client.connect()
        await client.ehlo()
        with pytest.raises((aiosmtplib.SMTPException, ssl.SSLError)) as failed:
            await client.starttls()
        assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
        client.close()


def test_lab_certificates_are_made_once_per_host_name():
    a = lab_certificate("mx.lab.test")
    assert lab_certificate("MX.lab.test.") is a
    assert lab_certificate("other.lab.test") is not a
    assert b"PRIVATE KEY" in a.key_pem and b"CERTIFICATE" in a.cert_pem
    assert not hasattr(a, "key_path")  # in memory only (tests/hostile/test_signals.py)


async def test_starttls_can_be_switched_off():
    async with LabSMTPHost("mx", HostBehaviour("accept", starttls=False)) as host:
        w = await Wire.open(host.address)
        await w.reply()
        ehlo = await w.cmd("EHLO c.test")
        assert not any("STARTTLS" in line for line in ehlo)
        assert not any("AUTH" in line for line in ehlo)
        assert (await w.cmd("STARTTLS"))[0].startswith("454 4.7.0 ")
        await w.cmd("QUIT")
        await w.close()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
async def test_auth_accepts_only_the_test_account(mechanism):
    behaviour = HostBehaviour("accept", auth=("lab-user", "s3cret"))
    async with LabSMTPHost("mx", behaviour) as host:
        good = smtp_client(host)
        await good.connect()
        await good.ehlo()
        assert good.server_auth_methods == ["login", "plain"]
        reply = await getattr(good, f"auth_{mechanism.lower()}")("lab-user", "s3cret")
        assert reply.code == 235 and reply.message.startswith("2.7.0")
        await good.sendmail("a@example.org", ["b@example.net"], b"x\r\n")
        await good.quit()

        bad = smtp_client(host)
        await bad.connect()
        await bad.ehlo()
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
            await getattr(bad, f"auth_{mechanism.lower()}")("lab-user", "wrong")
        assert refused.value.code == 535 and refused.value.message.startswith("5.7.8")
        await bad.quit()
    assert [m.auth_user for m in host.messages] == ["lab-user"]


async def test_auth_plain_on_the_wire_and_its_absence_without_an_account():
    async with LabSMTP(
        {"auth": HostBehaviour("accept", auth=("u", "p")), "open": HostBehaviour("accept")}
    ) as lab:
        w = await Wire.open(lab.endpoints["auth"])
        await w.reply()
        assert "250-AUTH LOGIN PLAIN" in await w.cmd("EHLO c.test")
        token = base64.b64encode(b"\0u\0p").decode()
        assert await w.cmd(f"AUTH PLAIN {token}") == ["235 2.7.0 Authentication successful"]
        await w.close()
        w = await Wire.open(lab.endpoints["open"])
        await w.reply()
        assert not any("AUTH" in line for line in await w.cmd("EHLO c.test"))
        assert (await w.cmd(f"AUTH PLAIN {token}"))[0].startswith("504 5.5.4 ")
        await w.close()


# --------------------------------------------------------------------------------------------
# settings from a scenario table; quiet logs
# --------------------------------------------------------------------------------------------


def test_behaviour_from_dict_builds_each_setting():
    b = behaviour_from_dict(
        {
            "kind": "known-users",
            "users": ["alice", "bob@example.net"],
            "auth": {"user": "u", "password": "p"},
            "starttls": False,
            "hostname": "mx9.lab.test",
        }
    )
    assert b == HostBehaviour(
        "known-users",
        users=("alice", "bob@example.net"),
        auth=("u", "p"),
        starttls=False,
        hostname="mx9.lab.test",
    )
    assert behaviour_from_dict({"kind": "drop", "drop_at": "rcpt"}).drop_at == "rcpt"
    assert behaviour_from_dict({"kind": "accept", "auth": ["u", "p"]}).auth == ("u", "p")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "accept", "colour": "red"}, "unknown host setting.*'colour'"),
        ({"users": ["a"]}, "needs a 'kind'"),
        ({"kind": "teapot"}, "unknown host kind 'teapot'"),
        ({"kind": "drop"}, "needs drop_at"),
        ({"kind": "drop", "drop_at": "helo"}, "needs drop_at"),
        ({"kind": "accept", "drop_at": "rcpt"}, "only meaningful for kind 'drop'"),
        ({"kind": "slow", "delay_s": "2"}, "'delay_s' must be int or float"),
        ({"kind": "accept", "starttls": "yes"}, "'starttls' must be bool"),
        ({"kind": "rcpt-limit", "max_recipients": True}, "'max_recipients' must be int"),
        ({"kind": "rcpt-limit"}, "max_recipients >= 1"),
        ({"kind": "size-limit", "max_size": 0}, "max_size >= 1"),
        ({"kind": "known-users"}, "at least one entry"),
        ({"kind": "accept", "auth": ["only-user"]}, "pair"),
        ({"kind": "accept", "auth": {"user": "u"}}, "'user' and 'password'"),
        ({"kind": "slow", "delay_s": -1}, "must not be negative"),
        ({"kind": "accept", "rcpt_replies": {"bob": "defer"}}, "rcpt_replies: 'bob' must map"),
        ({"kind": "accept", "rcpt_replies": {"bob": "350 go on"}}, "2xx, 4xx or 5xx"),
        ({"kind": "accept", "rcpt_replies": {"bob": "450 a\r\n250 b"}}, "one reply line"),
        ({"kind": "accept", "rcpt_replies": {"bob": 450}}, "to reply strings"),
        ({"kind": "accept", "rcpt_replies": ["bob"]}, "'rcpt_replies' must be dict"),
        ({"kind": "accept", "up_after_s": -5}, "up_after_s must not be negative"),
        ({"kind": "refuse", "up_after_s": 60}, "never comes up"),
        ({"kind": "accept", "relay": True, "relay_profile": "postfux"}, "not one of: rfc"),
        ({"kind": "refuse", "relay": True}, "cannot be a relay"),
        ({"kind": "accept", "enhanced_codes": 0}, "'enhanced_codes' must be bool"),
    ],
)
def test_behaviour_from_dict_rejects_bad_tables_with_a_clear_message(table, message):
    with pytest.raises(ValueError, match=message):
        behaviour_from_dict(table)


async def test_hosts_write_nothing_to_stderr_even_when_clients_misbehave(capfd):
    async with LabSMTP(
        {"drop": HostBehaviour("drop", drop_at="rcpt"), "ok": HostBehaviour("accept")}
    ) as lab:
        await _rcpt(lab.hosts["ok"], "a@example.org", ["b@example.net"])
        w = await Wire.open(lab.endpoints["drop"])
        await w.reply()
        await w.cmd("EHLO c.test")
        await w.cmd("MAIL FROM:<a@example.org>")
        w.writer.write(b"RCPT TO:<b@example.net>\r\n")
        assert await w.closed()
        await w.close()
        w = await Wire.open(lab.endpoints["ok"])  # a client that vanishes in the middle of DATA
        await w.reply()
        await w.cmd("EHLO c.test")
        await w.cmd("MAIL FROM:<a@example.org>")
        await w.cmd("RCPT TO:<b@example.net>")
        await w.cmd("DATA")
        w.writer.write(b"half a message")
        w.writer.transport.abort()
        await asyncio.sleep(0.1)
    assert capfd.readouterr().err == ""


# --------------------------------------------------------------------------------------------
# DATA read in bulk: the end of data wherever it falls, unstuffing, limits, pipelining
# --------------------------------------------------------------------------------------------


async def _to_data(address: tuple[str, int]) -> Wire:
    w = await Wire.open(address)
    await w.reply()
    await w.cmd("EHLO c.test")
    await w.cmd("MAIL FROM:<s@example.org>")
    await w.cmd("RCPT TO:<r@example.net>")
    assert (await w.cmd("DATA"))[0].startswith("354 ")
    return w


async def test_data_ends_at_the_lone_dot_even_when_it_arrives_byte_by_byte():
    async with LabSMTPHost("mx", HostBehaviour("accept")) as host:
        w = await _to_data(host.address)
        for piece in [b"a", b"\r", b"\n.", b".b\r", b"\n", b".", b"\r", b"\n"]:
            w.writer.write(piece)
            await w.writer.drain()
            await asyncio.sleep(0.01)
        assert (await w.reply())[0].startswith("250 2.0.0 ")
        await w.cmd("QUIT")
        await w.close()
    assert [m.data for m in host.messages] == [b"a\r\n.b\r\n"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (b".\r\n", b""),
        (b".x\r\n.\r\n", b"x\r\n"),
        (b"\r\n.\r\n", b"\r\n"),
        (b"a\r\n..\r\n...\r\nb.\r\n.\r\n", b"a\r\n.\r\n..\r\nb.\r\n"),
    ],
)
async def test_data_is_unstuffed_like_rfc_5321_says(sent, stored):
    async with LabSMTPHost("mx", HostBehaviour("accept")) as host:
        w = await _to_data(host.address)
        w.writer.write(sent)
        assert (await w.reply())[0].startswith("250 2.0.0 ")
        await w.close()
    assert [m.data for m in host.messages] == [stored]


async def test_commands_pipelined_after_the_dot_are_answered_in_order():
    async with LabSMTPHost("mx", HostBehaviour("accept")) as host:
        w = await _to_data(host.address)
        w.writer.write(b"body\r\n.\r\nNOOP\r\nQUIT\r\n")
        assert (await w.reply())[0].startswith("250 2.0.0 Ok: queued")
        assert await w.reply() == ["250 2.0.0 OK"]
        assert await w.reply() == ["221 2.0.0 Bye"]
        await w.close()


async def test_a_line_over_1000_bytes_gets_500_and_the_session_goes_on():
    async with LabSMTPHost("mx", HostBehaviour("accept")) as host:
        w = await _to_data(host.address)
        w.writer.write(b"ok\r\n" + b"x" * 1000 + b"\r\n.\r\n")
        assert (await w.reply())[0].startswith("500 5.5.2 Line too long")
        assert (await w.cmd("MAIL FROM:<s@example.org>"))[0].startswith("250 ")
        await w.close()
    assert host.messages == []


async def test_a_message_far_over_the_size_limit_is_read_to_the_dot_then_refused():
    async with LabSMTPHost("mx", HostBehaviour("size-limit", max_size=1000)) as host:
        w = await _to_data(host.address)
        w.writer.write((b"y" * 98 + b"\r\n") * 20_000 + b".\r\n")
        assert (await w.reply(timeout=20))[0].startswith("552 5.3.4 ")
        assert (await w.cmd("NOOP")) == ["250 2.0.0 OK"]
        await w.close()
    assert host.messages == []


async def test_a_large_message_with_dot_lines_arrives_intact():
    lines = [b".dot line %d" % i if i % 7 == 0 else b"line %d" % i for i in range(200_000)]
    message = b"\r\n".join(lines) + b"\r\n"
    async with LabSMTPHost("mx", HostBehaviour("accept")) as host:
        client = smtp_client(host, timeout=30)
        await client.connect()
        await client.sendmail("a@example.org", ["b@example.net"], message)
        await client.quit()
    assert host.messages[0].data == message


async def test_a_host_can_listen_on_ipv6_loopback():
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    async with LabSMTPHost("v6", HostBehaviour("accept"), host="::1") as host:
        assert host.address[0] == "::1"
        client = smtp_client(host)
        await client.connect()
        await client.sendmail("a@example.org", ["b@example.net"], b"x\r\n")
        await client.quit()
    assert host.messages[0].peer[0] == "::1"


async def test_broken_tls_clients_leave_stderr_quiet_and_the_host_serving(capfd):
    async with LabSMTPHost("mx", HostBehaviour("accept")) as host:
        w = await Wire.open(host.address)  # says STARTTLS, then sends plain text
        await w.reply()
        assert (await w.cmd("STARTTLS"))[0].startswith("220 2.0.0")
        w.writer.write(b"this is not a TLS handshake\r\n" * 10)
        assert await w.closed()
        await w.close()
        ctx = lab_certificate().client_context()
        client = smtp_client(host, tls_context=ctx)  # vanishes inside TLS, mid-transaction
        await client.connect()
        await client.ehlo()
        await client.starttls(server_hostname="mx.lab.test")
        await client.ehlo()
        await client.mail("a@example.org")
        client.transport.abort()
        await asyncio.sleep(0.1)
        await _rcpt(host, "a@example.org", ["b@example.net"])  # and the host still works
    assert capfd.readouterr().err == ""


# --------------------------------------------------------------------------------------------
# Options for any kind: rcpt_replies, enhanced_codes, up_after_s, relay
# --------------------------------------------------------------------------------------------


def test_behaviour_from_dict_reads_the_issue_5_options():
    b = behaviour_from_dict(
        {
            "kind": "accept",
            "rcpt_replies": {"Bob": "450 4.2.1 later", "nobody@x.test": "550 5.1.1 no"},
            "enhanced_codes": False,
            "up_after_s": 1000,
            "relay": True,
            "relay_profile": "qmail",
        }
    )
    assert b.rcpt_replies == (("bob", "450 4.2.1 later"), ("nobody@x.test", "550 5.1.1 no"))
    assert (b.enhanced_codes, b.up_after_s, b.relay, b.relay_profile) == (False, 1000, True,
                                                                          "qmail")  # fmt: skip


def test_rcpt_reply_prefers_the_full_address_over_the_local_part():
    b = HostBehaviour("accept", rcpt_replies=(("bob", "450 4.2.1 x"), ("BOB@b.test", "accept")))
    assert b.rcpt_reply("Bob@a.test") == "450 4.2.1 x"
    assert b.rcpt_reply("bob@B.TEST") == "accept"
    assert b.rcpt_reply("carol@a.test") is None


async def test_rcpt_replies_answer_each_recipient_and_accept_the_rest():
    behaviour = HostBehaviour(
        "accept",
        rcpt_replies=(
            ("bob", "450 4.2.1 <bob@x.test>: Mailbox temporarily disabled"),
            ("nobody", "550 User unknown"),
        ),
    )
    async with LabSMTPHost("mx", behaviour) as host:
        replies = await _rcpt(
            host, "s@example.org", ["alice@x.test", "bob@x.test", "nobody@x.test"]
        )
    assert replies == [
        "250 2.1.5 Recipient OK",
        "450 4.2.1 <bob@x.test>: Mailbox temporarily disabled",
        "550 5.1.1 User unknown",  # the enhanced code a modern MTA would add
    ]


async def test_rcpt_replies_override_the_kind_for_the_recipients_they_name():
    behaviour = HostBehaviour("known-users", users=("alice",), rcpt_replies=(("carol", "accept"),
                              ("alice", "452 4.2.2 Mailbox full")))  # fmt: skip
    async with LabSMTPHost("mx", behaviour) as host:
        replies = await _rcpt(host, "s@example.org", ["alice@x.test", "carol@x.test", "eve@x.test"])
    assert replies[0] == "452 4.2.2 Mailbox full"
    assert replies[1] == "250 2.1.5 Recipient OK"
    assert replies[2].startswith("550 5.1.1 <eve@x.test>")


def test_without_enhanced_code_keeps_the_basic_code_and_text():
    assert without_enhanced_code("550 5.1.1 User unknown") == "550 User unknown"
    assert without_enhanced_code("250-2.0.0 first") == "250-first"
    assert without_enhanced_code("221 2.0.0") == "221"
    assert without_enhanced_code("550 Unrouteable address") == "550 Unrouteable address"


async def test_a_host_without_enhanced_codes_neither_offers_nor_sends_them():
    behaviour = HostBehaviour("accept", enhanced_codes=False,
                              rcpt_replies=(("bob", "550 Unrouteable address"),))  # fmt: skip
    async with LabSMTPHost("exim", behaviour) as host:
        w = await Wire.open(host.address)
        await w.reply()
        ehlo = await w.cmd("EHLO c.test")
        mail = await w.cmd("MAIL FROM:<s@example.org>")
        alice = await w.cmd("RCPT TO:<alice@x.test>")
        bob = await w.cmd("RCPT TO:<bob@x.test>")
        await w.cmd("QUIT")
        await w.close()
    assert not any("ENHANCEDSTATUSCODES" in line for line in ehlo)
    assert ehlo[-1] == "250 HELP"
    assert mail == ["250 Sender OK"] and alice == ["250 Recipient OK"]
    assert bob == ["550 Unrouteable address"]


async def _refused(address: tuple[str, int]) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(*address), 5)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


async def test_up_after_s_refuses_until_the_simulated_clock_gets_there_then_serves():
    clock = SimClock()
    behaviour = HostBehaviour("accept", up_after_s=1000)
    async with LabSMTP({"mx1": behaviour}) as group:
        group.attach(clock)
        host = group.hosts["mx1"]
        address = host.address
        assert not host.up and await _refused(address)
        clock.advance_to(999)
        assert await _refused(address)
        clock.advance_to(1000)  # the very next connect meets the host up, on the same port
        assert host.up and host.address == address
        w = await Wire.open(address)
        assert (await w.reply())[0].startswith("220 ")
        await w.close()
        # A new walk's clock starts again at 0: the host is down again.
        group.attach(SimClock())
        assert await _refused(address)
    assert not host.running


async def test_up_after_s_in_real_time_comes_up_by_itself():
    async with LabSMTPHost("mx1", HostBehaviour("accept", up_after_s=0.3)) as host:
        assert await _refused(host.address)
        for _ in range(100):
            if not await _refused(host.address):
                break
            await asyncio.sleep(0.05)
        w = await Wire.open(host.address)
        assert (await w.reply())[0].startswith("220 ")
        await w.close()


async def test_a_down_host_keeps_its_port_from_other_programs():
    async with LabSMTPHost("mx1", HostBehaviour("accept", up_after_s=60)) as host:
        other = socket.socket()
        with pytest.raises(OSError) as taken:
            other.bind(host.address)
        other.close()
        assert taken.value.errno == errno.EADDRINUSE


def test_relay_profiles_names_the_relay_hosts_and_their_profiles():
    hosts = {
        "192.0.2.1": HostBehaviour("accept"),
        "192.0.2.2": HostBehaviour("accept", relay=True),
        "192.0.2.3": HostBehaviour("greylist", relay=True, relay_profile="exim"),
    }
    assert relay_profiles(hosts) == {"192.0.2.2": "postfix", "192.0.2.3": "exim"}


def test_lmtp_and_requiretls_settings_from_a_scenario_table() -> None:
    b = behaviour_from_dict(
        {"kind": "accept", "lmtp": True, "lmtp_replies": {"Bob": "452 4.2.2 Mailbox full"},
         "requiretls": True}
    )  # fmt: skip
    assert b.lmtp and b.requiretls and b.lmtp_reply("bob@example.com") == "452 4.2.2 Mailbox full"
    assert b.lmtp_reply("alice@example.com") is None
    for bad, needle in (
        ({"kind": "accept", "lmtp_replies": {"bob": "452 full"}}, "needs lmtp"),
        ({"kind": "accept", "lmtp": True, "lmtp_replies": {"bob": "full"}}, "one reply line"),
        ({"kind": "accept", "lmtp": "yes"}, "must be bool"),
    ):
        with pytest.raises(ValueError, match=needle):
            behaviour_from_dict(bad)


# --------------------------------------------------------------------------------------------
# replies by stage, and what each connection said (the conformance harness reads both)
# --------------------------------------------------------------------------------------------


async def test_replies_answer_mail_rcpt_data_and_the_dot_as_scripted():
    async def say(replies: dict[str, str]) -> list[str]:
        behaviour = behaviour_from_dict({"kind": "accept", "replies": replies})
        async with LabSMTPHost("mx", behaviour) as host:
            w = await Wire.open(host.address)
            said = [(await w.reply())[0], (await w.cmd("EHLO c.test"))[-1]]
            for line in ("MAIL FROM:<s@example.org>", "RCPT TO:<a@x.test>", "DATA"):
                said.append((await w.cmd(line))[0])
                if said[-1][0] != "2" and said[-1][:3] != "354":
                    break
            else:
                said.append((await w.cmd("Subject: x\r\n\r\nbody\r\n."))[0])
            await w.close()
        return said[2:]

    assert await say({"mail": "451 4.3.0 later"}) == ["451 4.3.0 later"]
    assert (await say({"rcpt": "452 too many"}))[1] == "452 4.5.3 too many"
    assert (await say({"data": "554 5.7.1 no"}))[2] == "554 5.7.1 no"
    last = await say({"dot": "451 4.3.0 after the dot"})
    assert last[2].startswith("354") and last[3] == "451 4.3.0 after the dot"


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        ({"helo": "451 x"}, "'helo' is not one of: mail, rcpt, data, dot"),
        ({"mail": "250 fine"}, "must map to one 4xx or 5xx reply line"),
        ({"dot": "451 a\r\n250 b"}, "must map to one 4xx or 5xx reply line"),
        ({"mail": 451}, "must map stages to reply strings"),
    ],
)
def test_replies_refuse_what_cannot_be_a_scripted_refusal(replies, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        behaviour_from_dict({"kind": "accept", "replies": replies})


async def test_each_connection_keeps_a_transcript_of_commands_and_replies():
    behaviour = HostBehaviour("accept", rcpt_replies=(("bob", "450 4.2.1 busy"),))
    async with LabSMTPHost("mx", behaviour) as host:
        w = await Wire.open(host.address)
        await w.reply()
        await w.cmd("EHLO c.test")
        await w.cmd("MAIL FROM:<s@example.org>")
        await w.cmd("RCPT TO:<bob@x.test>")
        await w.cmd("RCPT TO:<alice@x.test>")
        await w.cmd("DATA")
        await w.cmd("Subject: x\r\n\r\nbody\r\n.")
        await w.cmd("QUIT")
        await w.close()
        silent = await Wire.open(host.address)
        await silent.reply()
        await silent.close()
        await asyncio.sleep(0.05)
        said = [[verb, reply[:3]] for verb, reply in host.transcripts[0]]
        assert said == [
            ["greeting", "220"],
            ["EHLO", "250"],
            ["MAIL", "250"],
            ["RCPT", "450"],
            ["RCPT", "250"],
            ["DATA", "354"],
            ["DOT", "250"],
            ["QUIT", "221"],
        ]
        assert len(host.transcripts) == 2 and host.transcripts[1][0][0] == "greeting"
        host.forget()
        assert host.transcripts == []
