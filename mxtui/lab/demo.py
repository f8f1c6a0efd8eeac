"""The lab demo: one zone that shows every RFC 5321 §5.1 / RFC 7505 case side by side.

Addresses are documentation ones (RFC 5737 192.0.2.0/24, RFC 3849 2001:db8::/32): the lab DNS
serves them, and nothing ever dials them outside the lab.
"""

from __future__ import annotations

from mxtui.lab.dns_server import Fault

DEMO_DOMAIN = "example.com"

DEMO_ZONE = """\
$ORIGIN example.com.
$TTL 3600
@               SOA   ns.example.com. hostmaster.example.com. 2026112301 3600 600 86400 300
@               NS    ns.example.com.
ns              A     192.0.2.53

; The main demo: two equal-preference hosts tried in random order, and a backup.
@               MX    10 mx1.example.com.
@               MX    10 mx2.example.com.
@               MX    20 backup.example.com.
@               A     192.0.2.80
mx1             A     192.0.2.10
mx1             AAAA  2001:db8::10
mx2      300    A     192.0.2.11
mx2      300    AAAA  2001:db8::11
backup          A     192.0.2.20

; No MX at all: the domain's own addresses are an implicit MX (RFC 5321 §5.1).
implicit        A     192.0.2.30
implicit        AAAA  2001:db8::30

; Null MX: this domain takes no mail, and its A record must not be used (RFC 7505).
null            MX    0 .
null            A     192.0.2.31

; An MX target that is an alias (CNAME), which RFC 2181 §10.3 forbids.
cname           MX    10 alias.cname.example.com.
alias.cname     CNAME mx1.example.com.

; One target that does not exist, one with no address records, one good host.
noaddr          MX    10 ghost.noaddr.example.com.
noaddr          MX    20 empty.noaddr.example.com.
noaddr          MX    30 mx1.example.com.
empty.noaddr    TXT   "this name exists but has no address"

; An IP address written as the MX target.
literal         MX    10 192.0.2.10.

; A null MX published beside real ones.
mixed-null      MX    0 .
mixed-null      MX    10 mx1.example.com.

; The name exists but has nowhere to send mail.
nowhere         TXT   "no MX, no A, no AAAA"

; A zone whose MX lookup fails (SERVFAIL) and one that never answers (timeout).
broken          MX    10 mx1.example.com.
silent          MX    10 mx1.example.com.

; Every target resolves, but one host's AAAA lookup fails.
flaky           MX    10 mx1.example.com.
flaky           MX    20 flaky-host.example.com.
flaky-host      A     192.0.2.40
flaky-host      AAAA  2001:db8::40
"""

DEMO_FAULTS: dict[str, Fault | list[Fault]] = {
    "broken.example.com": Fault(servfail=True),
    "silent.example.com": Fault(silent=True),
    "flaky-host.example.com": Fault(servfail=True, rdtype="AAAA"),
}

# Shown in the app so a trainee knows what to try: (domain, what it shows).
DEMO_DOMAINS: tuple[tuple[str, str], ...] = (
    ("example.com", "equal preferences and a backup MX"),
    ("implicit.example.com", "no MX: implicit MX from the A/AAAA records"),
    ("null.example.com", "null MX: takes no mail"),
    ("cname.example.com", "MX target is a CNAME"),
    ("noaddr.example.com", "MX targets without addresses"),
    ("literal.example.com", "an IP address as MX target"),
    ("mixed-null.example.com", "null MX mixed with a real MX"),
    ("nowhere.example.com", "no MX, A or AAAA"),
    ("missing.example.com", "NXDOMAIN"),
    ("broken.example.com", "SERVFAIL"),
    ("silent.example.com", "timeout"),
    ("flaky.example.com", "one host's AAAA lookup fails"),
)


def many_mx_zone(domain: str, hosts: int, *, preferences: int = 1, ttl: int = 3600) -> str:
    """A zone with `hosts` MX hosts, each with one A and one AAAA record (for scale tests).

    Hosts are spread over `preferences` preference values (10, 20, ...).
    """
    lines = [
        f"$ORIGIN {domain}.",
        f"$TTL {ttl}",
        f"@ SOA ns.{domain}. hostmaster.{domain}. 1 3600 600 86400 300",
        f"@ NS ns.{domain}.",
        "ns A 192.0.2.53",
    ]
    for i in range(hosts):
        preference = 10 * (1 + i % preferences)
        lines.append(f"@ MX {preference} mx{i:02d}.{domain}.")
        lines.append(f"mx{i:02d} A 198.51.100.{i % 250 + 1}")
        lines.append(f"mx{i:02d} AAAA 2001:db8:100::{i + 1:x}")
    return "\n".join(lines) + "\n"
