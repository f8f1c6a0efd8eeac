"""MX host names that carry escapes and markup, from a hostile DNS server, through every command
that prints them: shown as DNS presentation text (``\\027``), never raw."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import hostile_support as hs
import pytest
from dns.rdtypes.ANY.MX import MX

LABELS = [b"\x1b]0;PWNED\x07", b"[/]", b"\x9b31m", b"\xe2\x80\xae", b"\x00", b"[@click=app.quit]"]


def handler_for(label: bytes):
    target = dns.name.Name([label, b"evil", b"test", b""])
    apex = dns.name.from_text("evil.test")

    def handler(query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        q = query.question[0]
        if q.name == apex and q.rdtype == dns.rdatatype.MX:
            mx = MX(dns.rdataclass.IN, dns.rdatatype.MX, 10, target)
            response.answer.append(dns.rrset.from_rdata(apex, 60, mx))
        elif q.name == target and q.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(target, 60, "IN", "A", "127.0.0.1"))
        return response

    return handler


@pytest.mark.parametrize("label", LABELS, ids=repr)
@pytest.mark.parametrize("command", ["mx", "mx-json", "probe", "walk"])
def test_an_mx_name_with_escapes_prints_as_presentation_text(peer, hostile_dns, command, label):
    hs.tried("dns name", 1)
    p = peer()
    ns = hostile_dns(handler_for(label))
    extra = {
        "mx": ["--no-tls-policy"],
        "mx-json": ["--no-tls-policy", "--json"],
        "probe": ["--port", str(p.port)],
        "walk": ["--port", str(p.port), "--to", "u@evil.test"],
    }[command]
    run = hs.run_mxtui(command.split("-")[0], "evil.test", "--nameserver", ns.nameserver,
                       "--timeout", "10", *extra, timeout=90)  # fmt: skip
    assert run.returncode in (0, 5), run.describe()
    assert not hs.raw_controls(run.stdout + run.stderr), run.describe()
    assert "\u202e" not in run.out and b".evil.test" in run.stdout


def test_the_app_draws_a_hostile_mx_name_as_text(hostile_dns, tmp_path) -> None:
    """The MX tree of a real terminal: the title-setting OSC and the C1 CSI stay escaped."""
    hs.tried("dns name", 1)
    ns = hostile_dns(handler_for(b"\x1b]0;PWNED\x07\xc2\x9b31m[/]"))
    with hs.Terminal("evil.test", "--nameserver", ns.nameserver,
                     env=hs.child_env({"HOME": str(tmp_path)})) as term:  # fmt: skip
        assert term.wait_for(b"evil.test", 30), term.output[-1000:]
        assert term.wait_for(b"PWNED", 30), term.output[-2000:]
        term.send(b"\x11")
        assert term.wait(15) == 0
    out = term.output
    assert b"\x1b]0;PWNED" not in out and b"\xc2\x9b31m" not in out  # Textual has OSC 22
    assert b"\\027]0\\;PWNED" in out  # as DNS presentation text
    assert b"MarkupError" not in out
