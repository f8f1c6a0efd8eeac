"""The bounce (NDR) or delay notice a profile would send, as an RFC 3464 multipart/report.

Built with the standard library's email package so that what the preview shows is a message
that parses back. The human part imitates each MTA's wording (paraphrased, not copied: each
profile's `DsnFlavour`, in its module); the machine part follows RFC 3464: per-message
fields, then per-recipient fields. All dates come from the caller's clock so a preview is
reproducible.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage, Message
from email.utils import format_datetime
from typing import Literal

from mxtui.errors import MxtuiError
from mxtui.model import Action, Decision, Reply
from mxtui.policy.profiles import Profile, ProfileParams, get_profile
from mxtui.policy.retry import retry_timeline
from mxtui.text import printable, span_words

Kind = Literal["failed", "delayed"]


class NoNoticeError(MxtuiError, ValueError):
    """The profile sends no notice of this kind (qmail and the RFC baseline send no delay
    notice)."""


_DNS_TEXT = {
    "nxdomain": "Host or domain name not found (NXDOMAIN)",
    "null-mx": "Domain does not accept mail (null MX, RFC 7505)",
    "dns-tempfail": "Temporary failure in the MX lookup (SERVFAIL or timeout)",
    "no-address": "No MX host (nor the domain itself) has an address to connect to",
}
_NET_TEXT = {
    "refused": "connect to {peer}: Connection refused",
    "timeout": "{peer}: timed out at stage {stage}",
    "dropped": "lost connection with {peer} at stage {stage}",
}

DEFAULT_ORIGINAL = {
    "From": "Sender <sender@example.org>",
    "To": "recipient@example.com",
    "Subject": "Quarterly report",
    "Date": "Mon, 23 Nov 2026 09:00:00 +0000",
    "Message-ID": "<original.0001@example.org>",
}


def _headers_text(original: Mapping[str, str] | str | None) -> str:
    if original is None:
        original = DEFAULT_ORIGINAL
    if isinstance(original, str):
        lines = original.replace("\r\n", "\n").strip("\n").split("\n")
    else:
        lines = [f"{name}: {value}" for name, value in original.items()]
    return "\n".join(printable(line, keep_tabs=True) for line in lines) + "\n"


def _original_subject(headers: str) -> str:
    for line in headers.splitlines():
        if line.lower().startswith("subject:"):
            return line.split(":", 1)[1].strip()
    return "(no subject)"


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=72, break_long_words=False, break_on_hyphens=False)


def _block(fields: list[tuple[str, str]]) -> Message:
    block = Message()
    for name, value in fields:
        block[name] = value
    return block


def ndr_preview(
    decision: Decision,
    *,
    recipient: str = "recipient@example.com",
    sender: str = "sender@example.org",
    reporting_mta: str = "mx.sender.example",
    remote_mta: str | None = "mx1.example.com",
    reply: Reply | None = None,
    original: Mapping[str, str] | str | None = None,
    now: datetime | None = None,
    arrival: datetime | None = None,
    kind: Kind | None = None,
    params: Mapping[str, object] | ProfileParams | None = None,
    profile: Profile | None = None,
) -> EmailMessage:
    """The notice `decision.profile` would send the sender after this decision.

    `kind` defaults to "failed" for an NDR decision; otherwise "delayed" when the profile
    sends delay notices (dated at its warning time), else "failed" at give-up (expiry).
    `reply` is the server's reply the decision was about, quoted in Diagnostic-Code.
    Raises NoNoticeError when `kind="delayed"` is asked of a profile that sends none.
    `profile` is the decision's profile as an object (by default looked up by its name).
    """
    prof = profile or get_profile(decision.profile)
    flavour = prof.dsn
    timeline = retry_timeline(prof, params)
    if kind is None:
        if decision.action is Action.NDR:
            kind = "failed"
        elif timeline.delay_dsn_s is not None and prof.sends_delay_notice:
            kind = "delayed"
        else:
            kind = "failed"
    if kind == "delayed" and (timeline.delay_dsn_s is None or not prof.sends_delay_notice):
        raise NoNoticeError(f"{prof.display} sends no delay notice with these settings")
    expiry = kind == "failed" and decision.action is not Action.NDR
    arrival = arrival or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    if now is None:
        offset = (timeline.delay_dsn_s or 0) if kind == "delayed" else 0
        now = arrival + timedelta(seconds=timeline.give_up_s if expiry else offset)
    age = int((now - arrival).total_seconds())
    until = arrival + timedelta(seconds=timeline.give_up_s)
    headers = _headers_text(original)
    subject_of_original = _original_subject(headers)

    status = decision.status
    if kind == "failed" and not status.startswith(("4", "5")):
        status = "5.0.0"
    if kind == "delayed" and not status.startswith("4"):
        status = "4" + status[1:] if status[:1] in "25" else "4.0.0"
    if expiry and status == "4.0.0":
        status = "4.4.7"
    if expiry and flavour.expiry_status:
        status = flavour.expiry_status
    elif kind == "failed" and not expiry and flavour.bounce_status:
        status = flavour.bounce_status
    elif kind == "delayed" and flavour.delay_status:
        status = flavour.delay_status

    fmt = {
        "mta": reporting_mta,
        "age": span_words(age) if age > 0 else "a while",
        "lifetime": span_words(timeline.give_up_s),
        "until": format_datetime(until),
        "arrival": format_datetime(arrival),
        "subject": subject_of_original,
    }
    message = EmailMessage(policy=email_policy.SMTP.clone(linesep="\n"))
    from_name = f"{flavour.from_name} " if flavour.from_name else ""
    message["From"] = f"{from_name}<{flavour.from_local}@{reporting_mta}>"
    message["To"] = sender
    subject = flavour.subject_failed if kind == "failed" else flavour.subject_delayed
    message["Subject"] = subject.format(**fmt)
    message["Date"] = format_datetime(now)
    token = hashlib.sha256(
        f"{prof.name}|{recipient}|{status}|{now.isoformat()}|{kind}".encode()
    ).hexdigest()[:24]
    message["Message-ID"] = f"<ndr.{token}@{reporting_mta}>"
    message["Auto-Submitted"] = "auto-replied"

    dns_outcome = decision.code is None and decision.outcome in _DNS_TEXT
    if dns_outcome:
        remote_mta = None  # nothing was contacted
    if reply is not None:
        lines = reply.lines or (f"{reply.code} {reply.text}".strip(),)
        diagnostic = "smtp; " + " ".join(printable(line) for line in lines)
    elif decision.code is not None:
        diagnostic = f"smtp; {decision.outcome}"
    elif dns_outcome:
        diagnostic = f"X-{prof.name}; {_DNS_TEXT[decision.outcome]}"
    else:
        peer = remote_mta or "the server"
        what = _NET_TEXT.get(decision.outcome, "{peer}: {outcome}")
        text = what.format(peer=peer, stage=decision.stage, outcome=decision.outcome)
        diagnostic = f"X-{prof.name}; {text}"
    body = flavour.failed_text if kind == "failed" else flavour.delayed_text
    human = [_wrap(flavour.intro.format(**fmt)), "", _wrap(body.format(**fmt)), ""]
    if expiry:
        human += [f"It was retried for {span_words(timeline.give_up_s)} and then given up.",
                  ""]  # fmt: skip
    human += [_wrap(f"<{recipient}>: {diagnostic.split('; ', 1)[1]}"), ""]
    message.set_content("\n".join(human), subtype="plain")
    message.make_mixed()
    message.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
    message.set_boundary(f"=_report_{token}")

    per_message = [
        ("Reporting-MTA", f"dns; {reporting_mta}"),
        ("Arrival-Date", format_datetime(arrival)),
    ]
    per_recipient = [
        ("Final-Recipient", f"rfc822; {recipient}"),
        ("Action", kind),
        ("Status", status),
    ]
    if remote_mta:
        per_recipient.append(("Remote-MTA", f"dns; {remote_mta}"))
    per_recipient += [
        ("Diagnostic-Code", diagnostic),
        ("Last-Attempt-Date", format_datetime(now)),
    ]
    if kind == "delayed":
        per_recipient.append(("Will-Retry-Until", format_datetime(until)))
    status_part = EmailMessage()
    status_part.set_type("message/delivery-status")
    status_part.set_payload([_block(per_message), _block(per_recipient)])
    del status_part["MIME-Version"]
    message.attach(status_part)

    headers_part = EmailMessage()
    headers_part.set_content(headers, subtype="rfc822-headers")
    del headers_part["MIME-Version"]
    message.attach(headers_part)
    return message


def ndr_text(message: EmailMessage) -> str:
    """The notice as it would travel, with plain newlines, for a text view."""
    return message.as_string(policy=email_policy.SMTP.clone(linesep="\n"))
