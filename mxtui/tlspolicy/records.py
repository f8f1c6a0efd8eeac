"""The text formats of MTA-STS (RFC 8461) and TLS-RPT (RFC 8460), read strictly and boundedly.

Everything here comes from DNS or from a web server the domain's owner (or an attacker) runs:
every field is length-checked, nothing is evaluated, and every problem comes back as words a
trainee can act on, never as an exception escaping to the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mxtui.text import printable

STS_VERSION = "STSv1"
TLSRPT_VERSION = "TLSRPTv1"
MAX_AGE_LIMIT = 31_557_600
"""RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year)."""
POLICY_LINES = 1000
"""Lines of a policy read at most; a real policy has four or five."""
POLICY_MX_LIMIT = 100
"""mx patterns kept at most; beyond that the policy is refused as hostile."""
TXT_LIMIT = 4096
"""Characters of one TXT record read at most (a record is a few dozen)."""

_STS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class StsRecord:
    """The `_mta-sts` TXT record (RFC 8461 §3.1): its policy id, and the text as published."""

    id: str
    text: str


@dataclass(frozen=True)
class StsPolicy:
    """An MTA-STS policy (RFC 8461 §3.2)."""

    mode: str
    """``enforce``, ``testing`` or ``none``."""
    mx: tuple[str, ...]
    """The MX patterns, lower case, as written (``mx1.example.com``, ``*.example.net``)."""
    max_age: int
    version: str = STS_VERSION
    ignored: tuple[str, ...] = field(default=())
    """Lines that were not understood (unknown keys are allowed by §3.2 and skipped)."""

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "mode": self.mode,
            "mx": list(self.mx),
            "max_age": self.max_age,
        }


@dataclass(frozen=True)
class TlsRptRecord:
    """The `_smtp._tls` TXT record (RFC 8460 §3): where reports go."""

    rua: tuple[str, ...]
    text: str


class RecordError(ValueError):
    """A record or policy that does not follow its RFC; the message says what is wrong."""


def txt_text(strings: tuple[bytes, ...]) -> str:
    """One TXT record's strings joined as RFC 7208 §3.3 / RFC 8461 §3.1 say (no separator),
    decoded without trusting them: undecodable bytes and control characters made visible."""
    raw = b"".join(strings)[:TXT_LIMIT]
    return printable(raw.decode("utf-8", "replace"))


def _fields(text: str) -> list[tuple[str, str]]:
    """``key=value`` fields separated by ``;`` with optional spaces (RFC 8461 §3.1 grammar)."""
    out = []
    for part in text.split(";"):
        part = part.strip(" \t")
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise RecordError(f"{part[:40]!r} is not a key=value field")
        out.append((key.strip(" \t"), value.strip(" \t")))
    return out


def pick_sts_record(texts: list[str]) -> StsRecord:
    """The one MTA-STS record among a name's TXT records (RFC 8461 §3.1).

    Records that do not begin with ``v=STSv1;`` are discarded; if not exactly one remains, or it
    is malformed, the domain has no usable policy: that is a `RecordError` saying which.
    """
    ours = [t for t in texts if t.startswith(f"v={STS_VERSION}")]
    if not ours:
        raise RecordError("no TXT record begins with v=STSv1")
    if len(ours) > 1:
        raise RecordError(f"{len(ours)} TXT records begin with v=STSv1; exactly one is allowed")
    text = ours[0]
    fields = _fields(text)
    if not fields or fields[0] != ("v", STS_VERSION):
        raise RecordError("the record must begin with v=STSv1")
    ids = [v for k, v in fields if k == "id"]
    if len(ids) != 1:
        raise RecordError("the record needs exactly one id= field")
    if not _STS_ID.match(ids[0]):
        raise RecordError(f"id {ids[0][:40]!r} is not 1 to 32 letters and digits")
    for key, _ in fields:
        if not _FIELD_NAME.match(key):
            raise RecordError(f"field name {key[:40]!r} is not allowed")
    return StsRecord(ids[0], text)


def parse_policy(body: str) -> StsPolicy:
    """An MTA-STS policy body (RFC 8461 §3.2): ``key: value`` lines, LF or CRLF.

    version must be STSv1, mode one of enforce/testing/none, max_age an integer from 0 to
    31557600, and mx given at least once unless the mode is none. Unknown keys are skipped.
    """
    values: dict[str, list[str]] = {}
    ignored: list[str] = []
    lines = body.splitlines()
    if len(lines) > POLICY_LINES:
        raise RecordError(f"the policy has {len(lines)} lines; a policy has a handful")
    for line in lines:
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not key:
            ignored.append(printable(line[:80]))
            continue
        if key in ("version", "mode", "max_age", "mx"):
            values.setdefault(key, []).append(value)
        else:
            ignored.append(printable(line[:80]))
    for key in ("version", "mode", "max_age"):
        found = values.get(key, [])
        if len(found) != 1:
            raise RecordError(
                f"{key} is missing" if not found else f"{key} is given {len(found)} times"
            )
    version, mode, max_age_text = values["version"][0], values["mode"][0], values["max_age"][0]
    if version != STS_VERSION:
        raise RecordError(f"version is {printable(version[:20])!r}, not STSv1")
    if mode not in ("enforce", "testing", "none"):
        raise RecordError(f"mode {printable(mode[:20])!r} is not enforce, testing or none")
    if not max_age_text.isdigit() or len(max_age_text) > 10:
        raise RecordError(f"max_age {printable(max_age_text[:20])!r} is not a whole number")
    max_age = int(max_age_text)
    if max_age > MAX_AGE_LIMIT:
        raise RecordError(f"max_age {max_age} is over the limit of {MAX_AGE_LIMIT} s")
    mx = values.get("mx", [])
    if len(mx) > POLICY_MX_LIMIT:
        raise RecordError(f"the policy lists {len(mx)} mx patterns")
    patterns = []
    for pattern in mx:
        pattern = pattern.lower().rstrip(".")
        if not _valid_pattern(pattern):
            raise RecordError(f"mx {printable(pattern[:80])!r} is not a host name or *.domain")
        patterns.append(pattern)
    if not patterns and mode != "none":
        raise RecordError("no mx lines: a policy in enforce or testing mode must list its MX")
    return StsPolicy(mode, tuple(patterns), max_age, version, tuple(ignored[:10]))


def _valid_pattern(pattern: str) -> bool:
    labels = pattern.split(".")
    if labels[0] == "*":
        labels = labels[1:]
        if len(labels) < 2:
            return False
    return len(pattern) <= 253 and len(labels) >= 1 and all(_LABEL.match(x) for x in labels)


def mx_matches(pattern: str, host: str) -> bool:
    """RFC 8461 §4.1: a pattern is a host name, or ``*.`` and a domain matching exactly one
    label in the leftmost place (``*.example.com`` covers ``mx.example.com``, neither
    ``example.com`` nor ``a.b.example.com``)."""
    host = host.lower().rstrip(".")
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return host == pattern


def policy_match(policy: StsPolicy, host: str) -> str | None:
    """The first pattern of `policy` that `host` matches, or None."""
    return next((p for p in policy.mx if mx_matches(p, host)), None)


def pick_tlsrpt_record(texts: list[str]) -> TlsRptRecord:
    """The TLS-RPT record (RFC 8460 §3): ``v=TLSRPTv1; rua=mailto:...,https://...``.

    Records not beginning with ``v=TLSRPTv1`` are discarded; exactly one must remain, with at
    least one ``mailto:`` or ``https:`` reporting URI.
    """
    ours = [t for t in texts if t.startswith(f"v={TLSRPT_VERSION}")]
    if not ours:
        raise RecordError("no TXT record begins with v=TLSRPTv1")
    if len(ours) > 1:
        raise RecordError(f"{len(ours)} TXT records begin with v=TLSRPTv1; exactly one is allowed")
    fields = _fields(ours[0])
    if not fields or fields[0] != ("v", TLSRPT_VERSION):
        raise RecordError("the record must begin with v=TLSRPTv1")
    ruas = [v for k, v in fields if k == "rua"]
    if len(ruas) != 1:
        raise RecordError("the record needs exactly one rua= field")
    uris = tuple(u.strip() for u in ruas[0].split(",") if u.strip())[:10]
    if not uris:
        raise RecordError("rua= names no reporting address")
    for uri in uris:
        if not uri.lower().startswith(("mailto:", "https:")):
            raise RecordError(f"rua {uri[:60]!r} is neither mailto: nor https:")
    return TlsRptRecord(uris, ours[0])
