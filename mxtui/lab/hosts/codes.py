"""Enhanced status codes (RFC 3463) for aiosmtpd's own replies, which carry none: the session
and the decision engine read them, as they do a modern MTA's."""

from __future__ import annotations

import re

_HAS_ENHANCED = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}(?: |$)")
_REPLY = re.compile(r"^([245]\d\d)([ -]?)(.*)$", re.DOTALL)

# The enhanced code for a basic code by command (RFC 3463, RFC 5248), most specific first.
_ENHANCED_BY_VERB: dict[tuple[str, int], str] = {
    ("MAIL", 250): "2.1.0",
    ("RCPT", 250): "2.1.5",
    ("RCPT", 550): "5.1.1",
    ("RCPT", 452): "4.5.3",
    ("MAIL", 552): "5.3.4",
    ("DATA", 552): "5.3.4",
    ("AUTH", 235): "2.7.0",
}
_ENHANCED_BY_CODE: dict[int, str] = {
    220: "2.0.0",
    221: "2.0.0",
    235: "2.7.0",
    250: "2.0.0",
    421: "4.3.0",
    450: "4.2.0",
    451: "4.3.0",
    452: "4.3.1",
    454: "4.7.0",
    500: "5.5.2",
    501: "5.5.4",
    502: "5.5.1",
    503: "5.5.1",
    504: "5.5.4",
    530: "5.7.0",
    535: "5.7.8",
    538: "5.7.11",
    550: "5.0.0",
    552: "5.3.4",
    553: "5.1.3",
    554: "5.7.0",
    555: "5.5.4",
}


_ENHANCED_PART = re.compile(r"^(\d{3}[ -])[245]\.\d{1,3}\.\d{1,3}(?: |$)")


def without_enhanced_code(line: str) -> str:
    """Drop the enhanced status code after the basic code (a host playing an MTA without them)."""
    return (
        _ENHANCED_PART.sub(r"\1", line, count=1).rstrip(" ") if _ENHANCED_PART.match(line) else line
    )


def with_enhanced_code(line: str, verb: str | None) -> str:
    """Insert an enhanced status code after the basic code when a reply line lacks one."""
    if _HAS_ENHANCED.match(line):
        return line
    m = _REPLY.match(line)
    if not m:
        return line
    code = int(m.group(1))
    enhanced = _ENHANCED_BY_VERB.get((verb or "", code)) or _ENHANCED_BY_CODE.get(
        code, f"{code // 100}.0.0"
    )
    sep = m.group(2) or " "
    rest = m.group(3)
    return f"{code}{sep}{enhanced}" + (f" {rest}" if rest else "")
