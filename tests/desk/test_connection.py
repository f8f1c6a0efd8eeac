"""The connection choices of the app (the `E` dialog): read by `mxtui smtp`'s own functions, so a
value one refuses the other refuses in the same words, and a session made from them speaks as
asked to a lab host (LMTP, TLS version, verification with a CA file, the PIPELINING note)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mxtui.cli import main
from mxtui.desk.connection import Connection
from mxtui.desk.envelope import default_envelope
from mxtui.errors import UsageError
from mxtui.lab.certs import lab_certificate
from mxtui.lab.runtime import Lab
from mxtui.model import Stage
from mxtui.smtp import Session


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    lab = Lab()
    await lab.start()
    try:
        yield lab
    finally:
        await lab.stop()


def to_mx1(connection: Connection, lab: Lab) -> Session:
    return connection.open_session(
        "192.0.2.10", default_envelope("example.com", lab=True), host="mx1.example.com",
        dialer=lab.dialer, trust_pem=lab.trust_pem,
    )  # fmt: skip


async def steps(session: Session, count: int) -> None:
    for _ in range(count):
        if await session.step() is None:
            break


def test_the_defaults_are_the_sessions_own() -> None:
    options = Connection().session_options()
    assert options == {
        "protocol": "esmtp", "pipelining": False, "chunking": False, "tls": "optional",
        "tls_verify": False, "trust_pem": None, "tls_options": None, "xclient": (),
    }  # fmt: skip
    assert Connection().summary() == "" and Connection().is_default


def test_each_choice_becomes_the_session_option_mxtui_smtp_gives(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(lab_certificate("mx1.example.com").cert_pem)
    chosen = Connection(
        protocol="lmtp", pipeline=True, chunking=True, tls="required", tls_verify=True,
        tls_ca_path=str(ca), tls_sni="sni.example", tls_protocol="tlsv1_2",
        xclient="ADDR=192.0.2.7, NAME=client.example",
    )  # fmt: skip
    options = chosen.session_options(trust_pem=b"LAB")
    assert options["protocol"] == "lmtp" and options["pipelining"] and options["chunking"]
    assert options["tls"] == "required" and options["tls_verify"]
    assert options["trust_pem"].startswith(b"LAB\n-----BEGIN CERTIFICATE-----")
    assert options["tls_options"].sni == "sni.example"
    assert [v.name for v in options["tls_options"].protocols] == ["TLSv1_2"]
    assert options["xclient"] == (("ADDR", "192.0.2.7"), ("NAME", "client.example"))
    assert chosen.summary().split() == [
        "--protocol", "LMTP", "--pipeline", "--chunking", "--tls", "--tls-verify",
        "--tls-ca-path", "--tls-sni", "--tls-protocol", "--xclient",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("connection", "flags"),
    [
        (Connection(tls_key="client.key"), ["--tls-key", "client.key"]),
        (Connection(tls_protocol="tlsv9"), ["--tls-protocol", "tlsv9"]),
        (Connection(tls_cipher="NO-SUCH-CIPHER"), ["--tls-cipher", "NO-SUCH-CIPHER"]),
        (Connection(tls_sni="two words"), ["--tls-sni", "two words"]),
        (Connection(xclient="ADDR"), ["--xclient", "ADDR"]),
        (Connection(tls_ca_path="/nonexistent/ca.pem"), ["--tls-ca-path", "/nonexistent/ca.pem"]),
    ],
)
def test_a_value_mxtui_smtp_refuses_is_refused_in_the_same_words(
    connection: Connection, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError) as refused:
        connection.session_options()
    assert main(["smtp", "-s", "127.0.0.1:9", "-t", "a@example.com", *flags]) == 2
    said = capsys.readouterr().err
    assert str(refused.value) in said and said.count("\n") == 1


def test_a_tls_mode_outside_the_four_is_refused() -> None:
    with pytest.raises(UsageError, match="none, optional, required, on-connect"):
        Connection(tls="sometimes").session_options()


async def test_lmtp_sends_lhlo_to_a_lab_host(lab: Lab) -> None:
    session = to_mx1(Connection(protocol="LMTP"), lab)
    await steps(session, 3)
    hello = next(s for s in session.steps if s.stage is Stage.EHLO)
    assert hello.sent == ("LHLO client.lab.test",)
    assert hello.reply is not None and hello.reply.code == 500  # the lab host is no LMTP server
    await session.aclose()


async def test_tls_version_and_verification_with_a_ca_file_reach_the_handshake(
    lab: Lab, tmp_path: Path
) -> None:
    unverified = to_mx1(Connection(tls="required", tls_verify=True), lab)
    await steps(unverified, 4)
    assert unverified.steps[-1].stage is Stage.STARTTLS and not unverified.steps[-1].ok
    await unverified.aclose()

    ca = tmp_path / "ca.pem"  # the lab host's own (self-signed) certificate, trusted by file
    ca.write_bytes(lab_certificate("mx1.example.com").cert_pem)
    chosen = Connection(tls="required", tls_verify=True, tls_ca_path=str(ca),
                        tls_protocol="tlsv1_2", pipeline=True)  # fmt: skip
    session = to_mx1(chosen, lab)
    await steps(session, 7)
    said = [line.text for line in session.transcript]
    assert any(t.startswith("TLS started: TLSv1.2") for t in said)
    assert "certificate verifies for mx1.example.com" in said
    assert "the server does not offer PIPELINING: one command at a time" in said
    assert [s.stage for s in session.steps][-2:] == [Stage.MAIL, Stage.RCPT]
    await session.aclose()
