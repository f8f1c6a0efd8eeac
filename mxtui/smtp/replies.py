"""Reply parsing: the basic code, the RFC 3463 enhanced code, and the text, from shown lines.

Lines arrive already printable (see protocol.py), so a `Reply` built here holds exactly what the
transcript showed.
"""

from __future__ import annotations

import re

from mxtui.model import Reply

# RFC 3463 §2: class.subject.detail, class 2, 4 or 5; subject up to 3 digits, detail up to 3.
_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


def parse_reply(code: int, lines: tuple[str, ...]) -> Reply:
    """Build a `Reply` from its shown lines.

    The enhanced code is taken when it is on the first line and its class matches the basic
    code's first digit (RFC 3463 §2 requires both); it is then removed from every line's text
    where it repeats, as servers do.
    """
    texts = [line[4:] if len(line) > 3 else "" for line in lines]
    enhanced: str | None = None
    if texts:
        m = _ENHANCED.match(texts[0])
        if m and int(m.group(1)) == code // 100:
            enhanced = m.group(0)
    if enhanced:
        texts = [t[len(enhanced) :].lstrip() if t.startswith(enhanced) else t for t in texts]
    return Reply(code=code, text="\n".join(t.strip() for t in texts), enhanced=enhanced,
                 lines=tuple(lines))  # fmt: skip


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
