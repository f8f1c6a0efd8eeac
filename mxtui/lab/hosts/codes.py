"""Enhanced status codes (RFC 3463) for aiosmtpd's own replies, which carry none: the session
and the decision engine read them, as they do a modern MTA's."""

from __future__ import annotations

from mxtui.smtp.replies import reply_line, sent_enhanced

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


def without_enhanced_code(line: str) -> str:
    """Drop the enhanced status code after the basic code (a host playing an MTA without them)."""
    parts = reply_line(line)
    if parts is None or not parts[1] or (enhanced := sent_enhanced(parts[2])) is None:
        return line
    return (line[:4] + parts[2][len(enhanced) :].lstrip(" ")).rstrip(" ")


def with_enhanced_code(line: str, verb: str | None) -> str:
    """Insert an enhanced status code after the basic code when a reply line lacks one."""
    parts = reply_line(line)
    if parts is None or parts[0] // 100 not in (2, 4, 5):
        return line
    code, sep, rest = parts
    if sep and sent_enhanced(rest) is not None:
        return line
    enhanced = _ENHANCED_BY_VERB.get((verb or "", code)) or _ENHANCED_BY_CODE.get(
        code, f"{code // 100}.0.0"
    )
    return f"{code}{sep or ' '}{enhanced}" + (f" {rest}" if rest else "")
