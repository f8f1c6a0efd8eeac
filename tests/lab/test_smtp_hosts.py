"""Lab SMTP hosts over real loopback sockets, driven by aiosmtplib and raw asyncio streams."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl

import aiosmtplib
import pytest

from mxtui.lab.smtp_hosts import (
    HostBehaviour,
    LabSMTP,
    LabSMTPHost,
    with_enhanced_code,
)

ENHANCED = r"[245]\.\d{1,3}\.\d{1,3}"


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
    return aiosmtplib.SMTP(
        hostname=host.address[0], port=host.address[1], start_tls=False, timeout=5, **kw
    )


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
