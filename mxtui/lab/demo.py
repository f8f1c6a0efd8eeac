"""The lab demo: one zone that shows every RFC 5321 §5.1 / RFC 7505 case side by side.

Addresses are documentation ones (RFC 5737 192.0.2.0/24, RFC 3849 2001:db8::/32): the lab DNS
serves them, and nothing ever dials them outside the lab.
"""

from __future__ import annotations

from mxtui.lab.dns_server import Fault
from mxtui.lab.hosts import HostBehaviour
from mxtui.lab.tls_policy import PolicySpec

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

; TLS policy (the zone is signed when the lab starts). MTA-STS in enforce mode: the policy lists
; mx.sts only, so rogue.sts (the better preference and a valid certificate, but not in the
; policy) must not be used.
sts             MX    10 rogue.sts.example.com.
sts             MX    20 mx.sts.example.com.
mx.sts          A     192.0.2.60
rogue.sts       A     192.0.2.61
_mta-sts.sts    TXT   "v=STSv1; id=20261201T000000"
mta-sts.sts     A     192.0.2.69
_smtp._tls.sts  TXT   "v=TLSRPTv1; rua=mailto:tls-reports@example.com"

; The same hosts under a policy in testing mode: a sender reports the rogue host, and uses it.
sts-testing     MX    10 rogue.sts.example.com.
sts-testing     MX    20 mx.sts.example.com.
_mta-sts.sts-testing  TXT  "v=STSv1; id=20261201T000001"
mta-sts.sts-testing   A    192.0.2.68

; DANE: mx.dane's TLSA record matches its certificate; old.dane's certificate was rotated and its
; TLSA record still names the old key.
dane            MX    10 old.dane.example.com.
dane            MX    20 mx.dane.example.com.
old.dane        A     192.0.2.62
mx.dane         A     192.0.2.63
_25._tcp.old.dane  TLSA  3 1 1 lab:old.dane.example.com@1
_25._tcp.mx.dane   TLSA  3 1 1 lab:mx.dane.example.com
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
    ("sts.example.com", "MTA-STS enforce: one MX is not in the policy"),
    ("sts-testing.example.com", "the same policy in testing mode: reported, not enforced"),
    ("dane.example.com", "DANE: one host's certificate no longer matches its TLSA record"),
)

DEMO_POLICIES: dict[str, PolicySpec] = {
    # The policy host of sts.example.com (mta-sts.sts.example.com, 192.0.2.69).
    "192.0.2.69": PolicySpec(
        "sts.example.com",
        "version: STSv1\nmode: enforce\nmx: mx.sts.example.com\nmax_age: 86400\n",
    ),
    # mta-sts.sts-testing.example.com: the same mx line, in testing mode.
    "192.0.2.68": PolicySpec(
        "sts-testing.example.com",
        "version: STSv1\nmode: testing\nmx: mx.sts.example.com\nmax_age: 86400\n",
    ),
}


_KNOWN = ("postmaster", "alice", "bob")

# The mail host behind each lab address: what a trainee meets when they connect to it.
DEMO_HOSTS: dict[str, HostBehaviour] = {
    # mx1: a well-run primary — STARTTLS, AUTH for the test account, known users only.
    "192.0.2.10": HostBehaviour(
        "known-users", users=_KNOWN, hostname="mx1.example.com", auth=("trainee", "lab-password")
    ),
    "2001:db8::10": HostBehaviour("known-users", users=_KNOWN, hostname="mx1.example.com"),
    # mx2: greylists over IPv4 (450 at RCPT, retry after a minute); refuses over IPv6.
    "192.0.2.11": HostBehaviour("greylist", greylist_delay_s=60, hostname="mx2.example.com"),
    "2001:db8::11": HostBehaviour("refuse", hostname="mx2.example.com"),
    # backup: accepts anything (a store-and-forward backup MX), messages up to 10 MB.
    "192.0.2.20": HostBehaviour("size-limit", max_size=10_000_000, hostname="backup.example.com"),
    # the apex A record (not used for mail, since MX records exist) and the null-MX domain's A.
    "192.0.2.80": HostBehaviour("accept", hostname="www.example.com"),
    "192.0.2.31": HostBehaviour("accept", hostname="null.example.com"),
    # implicit MX: busy over IPv4 (421 greeting), never greets over IPv6.
    "192.0.2.30": HostBehaviour("greet-421", hostname="implicit.example.com"),
    "2001:db8::30": HostBehaviour("silent", hostname="implicit.example.com"),
    # flaky-host: drops the connection at RCPT over IPv4; answers slowly over IPv6.
    "192.0.2.40": HostBehaviour("drop", drop_at="rcpt", hostname="flaky-host.example.com"),
    "2001:db8::40": HostBehaviour("slow", delay_s=1.5, hostname="flaky-host.example.com"),
    # MTA-STS: both hosts present a lab-CA certificate for their own name; only mx.sts is listed.
    "192.0.2.60": HostBehaviour("accept", hostname="mx.sts.example.com", certificate="lab-ca"),
    "192.0.2.61": HostBehaviour("accept", hostname="rogue.sts.example.com", certificate="lab-ca"),
    # DANE: old.dane presents its rotated certificate (key 2); mx.dane the one its TLSA names.
    "192.0.2.62": HostBehaviour(
        "accept", hostname="old.dane.example.com", certificate="lab-ca-rotated"
    ),
    "192.0.2.63": HostBehaviour("accept", hostname="mx.dane.example.com", certificate="lab-ca"),
}


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
