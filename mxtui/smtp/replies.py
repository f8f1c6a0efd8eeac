"""The one grammar of SMTP reply text: a reply line (RFC 5321 §4.2), the enhanced status code
(RFC 3463 §2), and the two readings mxtui makes of them.

Every place that reads a reply code or an enhanced code from text goes through here: the
session, the `explain` command and the decision engine, the lab hosts that add or drop enhanced
codes, the conformance runners that read an MTA's DSN. The pattern lives once; the readings
differ on purpose and are named for their use:

- `parse_reply` reads what a server sent, as RFC 2034 lays it out: the enhanced code is the
  first line's, followed by a space (or nothing), and only when its class is the basic code's.
- `parse_reply_text` reads what a person typed or pasted: any line may carry the enhanced code
  (the first one of the right class wins), and ``5.1.1:`` counts as one.
- `enhanced_parts` is the lenient test behind it ("is or starts with an enhanced code"), used
  for a code given on its own and for a reply whose session did not parse one.
"""

from __future__ import annotations

import re

from mxtui.model import Reply
from mxtui.text import printable

ENHANCED = r"[245]\.\d{1,3}\.\d{1,3}"
"""RFC 3463 §2: class "." subject "." detail; class 2, 4 or 5, subject and detail of one to
three digits. For a pattern that finds one inside other text (a DSN's Status field, a log),
followed by ``(?!\\d)`` so that ``5.1.1234`` is not read as ``5.1.123``."""

_PARTS = r"([245])\.(\d{1,3})\.(\d{1,3})"
_SENT = re.compile(rf"^{_PARTS}(?=\s|$)")
"""As a server sends it (RFC 2034 §4): the code, then a space or the end of the line."""
_WRITTEN = re.compile(rf"^\s*{_PARTS}(?!\.?\d)")
"""As a person writes it: spaces before, anything but one more digit or part after."""

REPLY_CODE = re.compile(r"^[2-5]\d\d(?:[ -]|$)")
"""A line that starts with a reply code of a class SMTP has (RFC 5321 §4.2.1)."""
_LINE = re.compile(r"^(\d{3})(?:([ -])(.*)|)$", re.DOTALL)


def reply_line(line: str) -> tuple[int, str, str] | None:
    """A reply line's basic code, its separator ("-" for a line that continues, " " or "" for
    the last) and its text; None when `line` does not start with three digits and a separator.
    Any three digits are read (a person asking about "600" is told what the first digit says)."""
    match = _LINE.match(line)
    if match is None:
        return None
    return int(match[1]), match[2] or "", match[3] or ""


def single_line_reply(text: str, classes: tuple[int, ...] = (2, 4, 5)) -> bool:
    """True when `text` is one whole reply line of one of `classes`: a code, then a space and
    text or nothing, no continuation and no line break (a reply a scenario scripts)."""
    parts = reply_line(text)
    return (
        parts is not None
        and parts[0] // 100 in classes
        and parts[1] != "-"
        and not ("\r" in text or "\n" in text)
    )


def sent_enhanced(text: str) -> str | None:
    """The enhanced code at the start of a reply line's text, as a server sends it (followed by
    a space or nothing), written as it was sent; None when there is none."""
    match = _SENT.match(text)
    return match[0] if match else None


def enhanced_parts(text: str) -> tuple[int, int, int] | None:
    """(class, subject, detail) when `text` is or starts with an enhanced status code, read
    leniently (spaces before it, punctuation after it); None otherwise."""
    match = _WRITTEN.match(text)
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def parse_reply(code: int, lines: tuple[str, ...]) -> Reply:
    """A server's reply from its shown lines (the session's reading).

    The enhanced code is taken when it is on the first line and its class matches the basic
    code's first digit (RFC 3463 §2 requires both); it is then removed from every line's text
    that repeats it, as servers do. Lines arrive already printable (see protocol.py), so the
    `Reply` holds exactly what the transcript showed.
    """
    texts = [line[4:] if len(line) > 3 else "" for line in lines]
    enhanced = sent_enhanced(texts[0]) if texts else None
    if enhanced is not None and int(enhanced[0]) != code // 100:
        enhanced = None
    if enhanced:
        texts = [t[len(enhanced) :].lstrip() if sent_enhanced(t) == enhanced else t for t in texts]
    return Reply(code=code, text="\n".join(t.strip() for t in texts), enhanced=enhanced,
                 lines=tuple(lines))  # fmt: skip


def parse_reply_text(text: str) -> Reply:
    """A reply a person typed (the `explain` reading): "CODE TEXT", lines separated by newlines,
    "250-..." continuations allowed.

    Any line may carry the enhanced code: the first one whose class matches the basic code is
    the reply's, written in its plain form (``5.01.1`` is ``5.1.1``), and a code of that class
    is removed from the start of each line's text. Raises ValueError with a one-line reason when
    a line does not start with a 3-digit code or when the lines disagree on the code. Lines and
    text come back made printable, as a Reply's always are.
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines:
        raise ValueError("the reply is empty; expected a 3-digit code such as '550 5.1.1 ...'")
    codes: list[int] = []
    texts: list[str] = []
    for line in lines:
        parts = reply_line(line)
        if parts is None:
            raise ValueError(
                f"reply line {printable(line[:40])!r} does not start with a 3-digit code "
                "(expected e.g. '550 5.1.1 user unknown')"
            )
        codes.append(parts[0])
        texts.append(parts[2])
    if len(set(codes)) > 1:
        raise ValueError(f"the reply lines carry different codes: {sorted(set(codes))}")
    enhanced = None
    bodies = []
    for body in texts:
        found = enhanced_parts(body)
        if found and found[0] == codes[0] // 100:
            enhanced = enhanced or ".".join(map(str, found))
            body = _WRITTEN.sub("", body, count=1).lstrip()
        bodies.append(body)
    return Reply(
        code=codes[0],
        text="\n".join(printable(t) for t in bodies),
        enhanced=enhanced,
        lines=tuple(printable(line) for line in lines),
    )


def parse_extensions(reply: Reply) -> dict[str, str]:
    """EHLO keywords (upper case) and their parameters, from the lines after the first."""
    out: dict[str, str] = {}
    for line in reply.lines[1:]:
        keyword, _, params = line[4:].strip().partition(" ")
        if not keyword:
            continue
        if keyword.upper().startswith("AUTH="):  # the pre-RFC 4954 spelling
            keyword, params = "AUTH", keyword[5:] + (" " + params if params else "")
        out.setdefault(keyword.upper(), params.strip())
    return out
