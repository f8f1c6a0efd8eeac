"""`mxtui smtp` with swaks' flags, against real Postfix (a lab host where Postfix cannot show
it: LMTP). Each test runs the command as a user would and reads what it printed."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postfix_peer import HOSTNAME, USER, Postfix

from mxtui.cli import main
from mxtui.lab.certs import lab_certificate
from mxtui.lab.dns_server import LabDNSServer
from mxtui.lab.hosts import HostBehaviour, LabSMTP

sys.path.insert(0, str(Path(__file__).parent))
import sasl_peer

PASSWORD = "pw-from-elsewhere"


@pytest.fixture(scope="module")
def sasl() -> Iterator[sasl_peer.SaslServer]:
    with sasl_peer.SaslServer(USER, PASSWORD, "token") as server:
        yield server


@pytest.fixture(scope="module")
def pf(request: pytest.FixtureRequest, sasl: sasl_peer.SaslServer) -> Iterator[Postfix]:
    """Postfix with AUTH, XCLIENT for 127.0.0.1, and TLS details in its log."""
    request.getfixturevalue("postfix_available")
    extra = sasl_peer.main_cf(sasl.port) + (
        "smtpd_authorized_xclient_hosts = 127.0.0.0/8\nsmtpd_tls_loglevel = 1\n"
        "smtpd_tls_ask_ccert = yes\n"
    )
    with Postfix(main_cf=extra) as instance:
        yield instance


async def smtp(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["smtp", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def base(pf: Postfix) -> list[str]:
    return ["-s", f"127.0.0.1:{pf.port}", "-f", "me@example.org", "-t", USER, "--timeout", "5"]


def sent(out: str) -> list[str]:
    return [line[4:] for line in out.splitlines() if line.startswith((" -> ", " ~> "))]


def log_has(pf: Postfix, needle: str, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if needle in pf.log_text():
            return True
        time.sleep(0.05)
    return False


async def test_headers_body_and_attachments_shape_the_message_postfix_takes(
    pf: Postfix, capsys, tmp_path
) -> None:
    report = tmp_path / "report.csv"
    report.write_bytes(b"a,b\n1,2\n")
    code, out, _ = await smtp(
        capsys, *base(pf), "--h-Subject", "swaks-style subject", "--header", "X-Test: one",
        "--add-header", "X-Mailer: second mailer", "--body", "line one\\nline two",
        "--attach-type", "text/csv", "--attach", f"@{report}", "--send",
    )  # fmt: skip
    lines = sent(out)
    assert code == 0
    assert "Subject: swaks-style subject" in lines and "X-Test: one" in lines
    assert lines.count("X-Mailer: mxtui") == 1 and "X-Mailer: second mailer" in lines
    assert any(line.startswith("Content-Type: multipart/mixed; boundary=") for line in lines)
    assert 'Content-Type: text/csv; name="report.csv"' in lines and "line two" in lines
    assert "YSxiCjEsMgo=" in lines  # the file, base64
    assert "<-  250 2.0.0 Ok: queued as" in out


async def test_pipeline_shows_how_the_replies_pair_up(pf: Postfix, capsys) -> None:
    code, out, _ = await smtp(capsys, *base(pf), "-t", "nobody@example.com", "--pipeline",
                              "--json")  # fmt: skip
    doc = json.loads(out)
    assert code == 1 and doc["outcome"] == "permanent"  # nobody's 550
    assert doc["steps"][-2]["failure"] == "held"
    notes = [line["text"] for line in doc["transcript"] if line["dir"] == "info"]
    assert "replies paired in order: MAIL → 250; RCPT → 250; RCPT → 550; DATA → 354" in notes
    assert all("PIPELINING" in s["uses"] for s in doc["steps"] if s["stage"] == "rcpt")


async def test_chunking_sends_bdat_and_last_only_with_send(pf: Postfix, capsys) -> None:
    code, out, err = await smtp(capsys, *base(pf), "--chunking")
    assert code == 5 and "BDAT" not in "\n".join(sent(out)) and "--send" in err
    code, out, _ = await smtp(capsys, *base(pf), "--chunking", "--send")
    bdat = [line for line in sent(out) if line.startswith("BDAT")]
    assert code == 0 and len(bdat) == 1 and bdat[0].endswith(" LAST")
    assert "DATA" not in sent(out) and "=== DOT used: CHUNKING" in out


@pytest.mark.parametrize(
    ("point", "last"),
    [
        ("connect", None),
        ("banner", "QUIT"),
        ("first-helo", "EHLO"),
        ("tls", "STARTTLS"),
        ("helo", "EHLO"),
        ("auth", "AUTH"),
        ("mail", "MAIL"),
        ("rcpt", "RCPT"),
        ("data", "DATA"),
        ("dot", "."),
    ],
)
async def test_quit_after_stops_at_every_swaks_point(
    pf: Postfix, capsys, point: str, last: str | None
) -> None:
    argv = [*base(pf), "--tls", "-au", USER, "--auth-password", PASSWORD, "-q", point, "--send"]
    code, out, _ = await smtp(capsys, *argv)
    said = [line.split(" ", 1)[0].split(":", 1)[0] for line in sent(out)]
    commands = [c for c in said if c.isupper() or c == "."]
    if last is None:
        assert commands == [] and code == 0
        return
    before_quit = [c for c in commands if c != "QUIT"]
    assert (before_quit[-1] if before_quit else "QUIT") == last, out
    expected_ehlos = {"first-helo": 1, "tls": 1}.get(point, 0 if point == "banner" else 2)
    assert commands.count("EHLO") == expected_ehlos
    assert code == 0


async def test_without_server_the_first_mx_of_the_recipient_domain_is_used(
    pf: Postfix, capsys
) -> None:
    zone = """$ORIGIN example.com.
$TTL 300
@ IN SOA ns.example.com. admin.example.com. 1 3600 600 86400 300
@ IN NS ns.example.com.
@ IN MX 20 backup.example.com.
@ IN MX 10 mx.example.com.
mx IN A 127.0.0.1
backup IN A 127.0.0.9
"""
    server = LabDNSServer(zone)
    await server.start()
    try:
        ns = "{}:{}".format(*server.address)
        argv = ["-f", "me@example.org", "-t", USER, "-p", str(pf.port), "--nameserver", ns]
        code, out, _ = await smtp(capsys, *argv, "-q", "rcpt", "--json")
    finally:
        await server.stop()
    doc = json.loads(out)
    assert code == 0 and doc["server"] == "mx.example.com" and doc["address"] == "127.0.0.1"


async def test_password_from_an_environment_variable_or_a_file(
    pf: Postfix, capsys, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("MXTUI_TEST_PW", PASSWORD)
    code, out, _ = await smtp(capsys, *base(pf), "--tls", "-a", "LOGIN", "-au", USER,
                              "--auth-password-env", "MXTUI_TEST_PW", "-q", "auth")  # fmt: skip
    assert code == 0 and " ~> AUTH LOGIN" in out and "<~  235 2.7.0" in out
    assert PASSWORD not in out
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    code, out, _ = await smtp(capsys, *base(pf), "--tls", "-a", "CRAM-MD5", "-au", USER,
                              "--auth-password-file", str(secret), "-q", "auth")  # fmt: skip
    assert code == 0 and " ~> AUTH CRAM-MD5" in out and "<~  235 2.7.0" in out


async def test_auth_refused_in_the_clear_and_optional_auth_goes_on(pf: Postfix, capsys) -> None:
    code, out, err = await smtp(capsys, *base(pf), "-au", USER, "-ap", PASSWORD, "-q", "mail")
    assert code == 4 and "not encrypted" in err and "AUTH" not in sent(out)
    code, out, _ = await smtp(capsys, *base(pf), "-ao", "-au", USER, "-ap", "wrong", "--tls",
                              "-q", "mail")  # fmt: skip
    assert code == 0 and "<~  535 5.7.8" in out and " ~> MAIL FROM:<me@example.org>" in out


async def test_xclient_and_local_interface_reach_postfix(pf: Postfix, capsys) -> None:
    code, out, _ = await smtp(capsys, *base(pf), "--xclient", "ADDR=192.0.2.55 NAME=xc.example",
                              "-li", "127.0.0.3", "-4", "-q", "mail")  # fmt: skip
    assert code == 0 and " -> XCLIENT ADDR=192.0.2.55 NAME=xc.example" in out
    assert log_has(pf, "connect from unknown[127.0.0.3]")
    assert log_has(pf, "xc.example[192.0.2.55]")


async def test_dsn_flags_and_requiretls(pf: Postfix, capsys) -> None:
    dsn = ["--dsn-notify", "failure,delay", "--dsn-ret", "hdrs", "--dsn-envid", "e-1"]
    code, out, _ = await smtp(capsys, *base(pf), *dsn, "--dsn-orcpt", "-q", "rcpt")
    assert code == 0
    assert any(line.endswith("RET=HDRS ENVID=e-1") for line in sent(out))
    assert f"RCPT TO:<{USER}> NOTIFY=FAILURE,DELAY ORCPT=rfc822;{USER}" in sent(out)
    # The explanation says what the request changes for the sender.
    assert "=== DSN request: NOTIFY=FAILURE: a failed delivery sends a bounce" in out
    assert "=== DSN request: RET=HDRS: a bounce returns only the message's headers." in out
    assert "Original-Envelope-Id: e-1" in out
    code, out, err = await smtp(capsys, *base(pf), "--tls", "--requiretls")
    assert code == 4 and "RFC 8689" in err


async def test_tls_flags_reach_postfix(pf: Postfix, capsys, tmp_path) -> None:
    cert = lab_certificate("cli-client.example.org")
    (tmp_path / "client.pem").write_bytes(cert.cert_pem)
    (tmp_path / "client.key").write_bytes(cert.key_pem)
    (tmp_path / "ca.pem").write_bytes(pf.cert.cert_pem)
    code, out, _ = await smtp(
        capsys, *base(pf), "--tls", "--tls-protocol", "tlsv1_2",
        "--tls-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384", "--tls-cert", str(tmp_path / "client.pem"),
        "--tls-key", str(tmp_path / "client.key"), "--tls-sni", HOSTNAME, "--tls-verify",
        "--tls-ca-path", str(tmp_path / "ca.pem"), "--tls-verify-host", HOSTNAME, "-q", "tls",
    )  # fmt: skip
    assert code == 0, out
    assert "=== TLS started: TLSv1.2, cipher ECDHE-ECDSA-AES256-GCM-SHA384" in out
    assert f"=== certificate verifies for {HOSTNAME}" in out
    # "Untrusted", not "Anonymous": Postfix was shown a client certificate it does not trust.
    assert log_has(pf, "Untrusted TLS connection established from unknown[127.0.0.1]: "
                   "TLSv1.2 with cipher ECDHE-ECDSA-AES256-GCM-SHA384")  # fmt: skip


async def test_bad_tls_and_auth_flags_are_usage_errors(capsys, tmp_path) -> None:
    for argv, needle in (
        (["--tls-protocol", "tlsv9"], "unknown TLS version"),
        (["--tls-cert", str(tmp_path / "none.pem")], "client certificate"),
        (["--tls-cipher", "NOT-A-CIPHER"], "no usable cipher"),
        (["-au", "u", "--auth-password-env", "MXTUI_SURELY_UNSET"], "is not set"),
        (["--data", "x", "--body", "y"], "--data gives the whole message"),
        (["--header", "no colon here"], "expected 'Name: value'"),
    ):
        code = main(["smtp", "-s", "127.0.0.1:9", "-t", "a@example.com", *argv])
        err = capsys.readouterr().err
        assert code == 2 and needle in err and err.count("\n") == 1, (argv, err)
    # argparse's own refusal of an unknown type: one line too (the CLI's parser), exit 2
    assert main(["smtp", "-s", "127.0.0.1:9", "-t", "a@example.com", "-a", "DIGEST-MD5"]) == 2
    err = capsys.readouterr().err
    assert "AUTH types are PLAIN" in err and err.count("\n") == 1


async def test_lmtp_to_a_lab_host_explains_each_recipient(capsys) -> None:
    behaviour = HostBehaviour(kind="accept", lmtp=True, starttls=False,
                              lmtp_replies=(("bob", "552 5.2.2 Mailbox full"),))  # fmt: skip
    async with LabSMTP({"lmtp": behaviour}) as lab:
        host, port = lab.endpoints["lmtp"]
        code, out, _ = await smtp(capsys, "-s", f"{host}:{port}", "--protocol", "LMTP",
                                  "-f", "me@example.org", "-t", "alice@example.com,bob@example.com",
                                  "--send")  # fmt: skip
    assert " -> LHLO" in out.replace(" -> LHLO ", " -> LHLO")
    assert "=== LMTP: <alice@example.com> 250: delivered" in out
    assert "=== LMTP: <bob@example.com> 552: bounced" in out
    assert code == 1  # one recipient bounced: a permanent failure


async def test_a_control_character_in_any_new_flag_is_refused_before_connecting(capsys) -> None:
    for argv in (
        ["--tls-sni", "a\x01b"],
        ["--attach-type", "text/plain\r\nX-Injected: 1", "--attach", "x"],
        ["--attach-name", "a\x1b[31m", "--attach", "x"],
        ["-au", "u\x01ser", "-ap", "p", "--auth-cleartext"],
        ["--xclient-name", "a\rb"],
        ["--local-interface", "127.0.0.1\n"],
        ["--h-X-Test", "value\x07"],
    ):
        code = main(["smtp", "-s", "127.0.0.1:9", "-t", "a@example.com", *argv])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "\x1b" not in err, (argv, err)
