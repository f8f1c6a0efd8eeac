"""What the sender's DSN request (RFC 3461) changes about the notifications it will get.

A DSN request rides on MAIL (RET=, ENVID=) and RCPT (NOTIFY=, ORCPT=) and only to a server that
offered DSN; without one, the MTAs' defaults apply. This says, in sentences for the explanation,
what the request asked for and so what the sender will (and will not) receive.
"""

from __future__ import annotations

from mxtui.model import DSNRequest

REFERENCE = "RFC 3461 §4.1–4.4, §5.2"


def dsn_request_effects(dsn: DSNRequest | None, *, offered: bool) -> tuple[str, ...]:
    """The consequences of `dsn` (None: no request) sent to a server that did (`offered`) or
    did not offer DSN."""
    if dsn is None:
        return (
            "No DSN request: each MTA's defaults apply — a bounce (NDR) if delivery fails, "
            "perhaps a delay warning, nothing on success (RFC 3461 §4.1: no NOTIFY means "
            "FAILURE, and DELAY at the MTA's choice).",
        )
    if not offered:
        return (
            "The server did not offer DSN, so NOTIFY, RET, ENVID and ORCPT were not sent: "
            "the defaults apply as if nothing had been asked (a bounce on failure).",
        )
    out: list[str] = []
    notify = {n.upper() for n in dsn.notify}
    if "NEVER" in notify:
        out.append(
            "NOTIFY=NEVER: no notification at all, not even a bounce — a failed delivery is "
            "silent for the sender (RFC 3461 §4.1)."
        )
    elif notify:
        if "FAILURE" not in notify:
            out.append("No FAILURE in NOTIFY: a failed delivery sends no bounce to the sender.")
        else:
            out.append("NOTIFY=FAILURE: a failed delivery sends a bounce (action: failed).")
        if "SUCCESS" in notify:
            out.append(
                "NOTIFY=SUCCESS: a 'delivered' DSN when the final MTA delivers, or 'relayed' "
                "when the message passes to a server without DSN (RFC 3461 §5.2.2)."
            )
        if "DELAY" in notify:
            out.append(
                "NOTIFY=DELAY: a 'delayed' DSN while the message waits in a queue (Postfix: "
                "after delay_warning_time, off by default)."
            )
        else:
            out.append("No DELAY in NOTIFY: no delay warnings while the message is queued.")
    if dsn.ret:
        out.append(
            "RET=HDRS: a bounce returns only the message's headers."
            if dsn.ret.upper() == "HDRS"
            else "RET=FULL: a bounce returns the whole message."
        )
    if dsn.envid:
        out.append(
            f"ENVID: every DSN carries Original-Envelope-Id: {dsn.envid}, to match it to "
            "this message (RFC 3461 §4.4)."
        )
    if dsn.orcpt:
        out.append(
            "ORCPT: each DSN names the recipient as given here (Original-Recipient:), even "
            "after forwarding or aliasing rewrote it (RFC 3461 §4.2)."
        )
    return tuple(out)
