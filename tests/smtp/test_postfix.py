"""The session and `mxtui smtp` against a real MTA: Debian's Postfix on a loopback port."""

from __future__ import annotations

import asyncio
import json
import time

from postfix_peer import HOSTNAME, USER, Postfix
from smtp_support import QUICK

from mxtui.cli import main
from mxtui.model import Envelope, Stage, StepResult
from mxtui.smtp import RealDialer, Session


def session(pf: Postfix, *recipients: str, **kw: object) -> Session:
    env = Envelope("sender@example.org", recipients, ehlo_name="client.example.org")
    return Session("127.0.0.1", env, dialer=RealDialer(pf.port), timeouts=QUICK, **kw)  # type: ignore[arg-type]


async def walk(s: Session, *, confirm_send: bool = False) -> list[StepResult]:
    out = []
    while (r := await s.step(confirm_send=confirm_send)) is not None:
        out.append(r)
        if r.failure == "held":
            break
    return out


def wait_for_log(pf: Postfix, needle: str, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if needle in pf.log_text():
            return True
        time.sleep(0.05)
    return False


async def test_postfix_accepts_its_user_and_rejects_others_with_550_5_1_1(postfix: Postfix) -> None:
    s = session(postfix, USER, "nobody@example.com", tls="none")
    results = await walk(s)
    rcpts = [r.reply for r in results if r.stage is Stage.RCPT]
    assert [(r.code, r.enhanced) for r in rcpts if r] == [(250, "2.1.5"), (550, "5.1.1")]
    assert rcpts[1] is not None and "User unknown" in rcpts[1].text
    assert results[-1].failure == "held"  # Postfix is not a lab host
    await s.quit()
    assert not s.connected


async def test_postfix_takes_the_message_once_confirmed(postfix: Postfix) -> None:
    s = session(postfix, USER, tls="none")
    results = await walk(s, confirm_send=True)
    dot = next(r for r in results if r.stage is Stage.DOT)
    assert dot.reply is not None and dot.reply.code == 250 and "queued as" in dot.reply.text
    queue_id = dot.reply.text.rsplit(" ", 1)[-1]
    assert await asyncio.to_thread(wait_for_log, postfix, f"{queue_id}: to=<{USER}>")


async def test_postfix_starttls_facts_verify_with_its_certificate(postfix: Postfix) -> None:
    s = session(postfix, USER, tls="required", tls_name=HOSTNAME,
                trust_pem=postfix.cert.cert_pem)  # fmt: skip
    results = await walk(s)
    tls = next(r for r in results if r.stage is Stage.STARTTLS).tls
    assert tls is not None and tls.verified and tls.version in ("TLSv1.2", "TLSv1.3")
    assert f"DNS:{HOSTNAME}" in tls.sans
    assert [r.stage for r in results][3:5] == [Stage.STARTTLS, Stage.EHLO]
    assert "STARTTLS" not in s.extensions  # the post-TLS EHLO no longer offers it
    await s.aclose()


async def test_postfix_vrfy_and_out_of_order_commands(postfix: Postfix) -> None:
    s = session(postfix, USER, tls="none")
    for _ in range(3):
        await s.step()
    vrfy = await s.raw(f"VRFY {USER}")
    assert vrfy.reply is not None and vrfy.reply.klass == 2
    early = await s.raw("RCPT TO:<x@example.com>")
    assert early.reply is not None and (early.reply.code, early.reply.enhanced) == (503, "5.5.1")
    await s.quit()


async def test_cli_json_against_postfix(postfix: Postfix, capsys) -> None:
    argv = ["smtp", "--server", f"127.0.0.1:{postfix.port}", "--from", "a@example.org",
            "--to", USER, "--to", "bob@example.com", "--tls", "--json",
            "--timeout", "5"]  # fmt: skip
    code = await asyncio.to_thread(main, argv)
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["outcome"] == "permanent"
    stages = [s["stage"] for s in doc["steps"]]
    assert stages[:5] == ["connect", "greeting", "ehlo", "tls", "ehlo"]
    assert [s["reply"]["code"] for s in doc["steps"] if s["stage"] == "rcpt"] == [250, 550]
    assert any(line["encrypted"] for line in doc["transcript"])
