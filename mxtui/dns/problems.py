"""The RFC 5321 §5.1 / RFC 7505 situations, in words a trainee understands.

One function per problem code, so the code (a contract in `mxtui mx --json`) and its explanation
stay together.
"""

from __future__ import annotations

from mxtui.model import Problem


def nxdomain() -> Problem:
    return Problem(
        "nxdomain",
        "The domain does not exist (NXDOMAIN). There is nowhere to deliver: a sending MTA "
        "returns the message at once with an NDR (Postfix: 5.4.4).",
        "RFC 5321 §5.1",
        "error",
    )


def null_mx() -> Problem:
    return Problem(
        "null-mx",
        'This domain publishes a null MX ("0 ."): it says it accepts no mail at all. A sender '
        "must not fall back to its A/AAAA records and bounces at once (556 5.1.10).",
        "RFC 7505 §3-4",
        "error",
    )


def null_mx_mixed() -> Problem:
    return Problem(
        "null-mx-mixed",
        'A null MX ("0 .") is published beside other MX records. RFC 7505 §3 forbids this; '
        'senders ignore the "." record and use the others, but the domain is misconfigured.',
        "RFC 7505 §3",
        "error",
    )


def implicit_mx() -> Problem:
    return Problem(
        "implicit-mx",
        "No MX records: the domain's own A/AAAA addresses act as an implicit MX with preference "
        "0. This fallback applies only when there is no MX at all.",
        "RFC 5321 §5.1",
        "info",
    )


def no_mail_records() -> Problem:
    return Problem(
        "no-mail-records",
        "The domain exists but has no MX, A or AAAA records, so there is no host to deliver to. "
        "A sending MTA returns the message with an NDR.",
        "RFC 5321 §5.1",
        "error",
    )


def no_usable_host() -> Problem:
    return Problem(
        "no-usable-host",
        "MX records exist but none of their hosts has an address. Because MX records exist, the "
        "domain's own A record must not be used: the message is undeliverable (Postfix bounces "
        "unless smtp_defer_if_no_mx_address_found=yes).",
        "RFC 5321 §5.1",
        "error",
    )


def address_lookup_failed() -> Problem:
    return Problem(
        "address-lookup-failed",
        "No MX host address could be found because lookups failed (not because there are none). "
        "A sending MTA treats this as temporary and retries later (4.4.3).",
        "RFC 5321 §5.1",
        "error",
    )


def plan_failure(rcode: str, detail: str, waited: float | None = None) -> Problem:
    """The MX question itself failed; `waited` is how long it was waited for, as measured."""
    if rcode == "TIMEOUT":
        code, words = "timeout", f"No DNS answer came within {round(waited or 0, 1):g} s"
    elif rcode == "CNAME_LOOP":
        code, words = "cname-loop", "The domain's name is an alias (CNAME) that never ends"
    elif rcode == "SERVFAIL":
        code, words = "servfail", "The DNS server answered SERVFAIL (it could not find out)"
    else:
        code, words = "dns-error", f"The lookup failed ({rcode})"
    return Problem(
        code,
        f"{words}: {detail}. The answer is unknown, so a sending MTA keeps the message and "
        "retries later (4.4.3) instead of bouncing it.",
        "RFC 5321 §5.1",
        "error",
    )


def cname_target(name: str, chain: tuple[str, ...]) -> Problem:
    path = " → ".join((name, *chain))
    return Problem(
        "cname-target",
        f"The MX target is an alias (CNAME): {path}. An MX must name a host with its own address "
        "records; most MTAs follow the alias anyway, but some refuse it.",
        "RFC 5321 §5.1, RFC 2181 §10.3",
        "warning",
    )


def ip_literal_target(target: str) -> Problem:
    return Problem(
        "ip-literal-target",
        f"The MX target {target} is written as an IP address. An MX must name a host; MTAs look "
        'it up as a name, find nothing and skip it (Postfix: "MX host name is numerical").',
        "RFC 5321 §5.1",
        "error",
    )


def no_address(name: str, *, nxdomain: bool, implicit: bool = False) -> Problem:
    why = (
        "the name does not exist (NXDOMAIN)"
        if nxdomain
        else "the name exists but has no A or AAAA record (NODATA)"
    )
    then = (
        "There is nowhere to deliver."
        if implicit
        else "A sending MTA skips this host and tries the others."
    )
    return Problem(
        "no-address",
        f"{name} has no address: {why}. {then}",
        "RFC 5321 §5.1",
        "error",
    )


def lookup_failed(rdtype: str, rcode: str, detail: str, has_other_family: bool) -> Problem:
    return Problem(
        "lookup-failed",
        f"The {rdtype} lookup failed ({rcode}: {detail}). A sending MTA cannot tell whether "
        "this host has such addresses, so it defers rather than bounce.",
        "RFC 5321 §5.1",
        "warning" if has_other_family else "error",
    )


def cname_loop(name: str, detail: str) -> Problem:
    """An MX target whose alias chain comes back on itself (or goes on past the hop limit)."""
    return Problem(
        "cname-loop",
        f"{name} never leads to an address: {detail}. RFC 1034 §3.6.2 asks resolvers to signal "
        "CNAME loops as an error; a recursive resolver answers SERVFAIL, so a sending MTA counts "
        "this host's lookup as failed: it tries the other hosts, and defers if none is left.",
        "RFC 1034 §3.6.2, RFC 5321 §5.1",
        "error",
    )
