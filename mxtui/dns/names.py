"""Turn what a person typed into a domain name that can go on the wire, or say clearly why not."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import dns.name

from mxtui.errors import UsageError
from mxtui.text import printable

MAX_NAME = 253  # RFC 1035 §2.3.4: 255 octets on the wire = 253 characters in text
MAX_LABEL = 63

_LDH = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")


class DomainError(UsageError):
    """A domain that cannot be looked up; the message is meant for the user as it is."""


@dataclass(frozen=True)
class Domain:
    ascii: str
    """A-labels, lower case, no trailing dot: what is asked on the wire."""
    display: str
    """What the user typed, tidied (U-labels kept), for display."""
    note: str = ""
    """Something we changed that the user should know (e.g. an e-mail address was given)."""


def normalise_domain(text: str) -> Domain:
    """Validate and IDNA-encode a mail domain (RFC 5321 §4.1.2 syntax, RFC 5890 A-labels)."""
    raw = text
    text = text.strip()
    note = ""
    if not text:
        raise DomainError("Enter a domain name, for example example.com.")
    if any(ch.isspace() for ch in text):
        raise DomainError(f"{printable(raw)!r} has a space in it; a domain name has none.")
    if "@" in text:
        local, _, domain = text.rpartition("@")
        if not domain:
            raise DomainError(
                f"{printable(text)!r} has no domain after '@': enter a domain like example.com."
            )
        if "@" in local or not local:
            if not local:
                note = "a leading '@' was dropped"
            else:
                raise DomainError(f"{printable(text)!r} has more than one '@'.")
        else:
            note = f"looked up the domain of the address {printable(text)}"
        text = domain
    if text.startswith("[") and text.endswith("]"):
        raise DomainError(
            f"{printable(text)!r} is an address literal: it has no MX records to look up "
            "(RFC 5321 §4.1.3). Connect to it directly instead."
        )
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise DomainError(
            f"{printable(text)} is an IP address, not a domain: it has no MX records to look up."
        )
    if text.endswith("."):
        text = text[:-1]
    if not text or text == ".":
        raise DomainError("The root '.' is not a mail domain.")
    if ".." in text or text.startswith("."):
        raise DomainError(f"{printable(text)!r} has an empty label (two dots in a row).")
    try:
        name = dns.name.from_unicode(text, idna_codec=dns.name.IDNA_2008_Practical)
        ascii_name = name.to_text(omit_final_dot=True).lower()
    except dns.name.LabelTooLong:
        raise DomainError(
            f"A label of {printable(text)!r} is longer than {MAX_LABEL} characters "
            "(RFC 1035 §2.3.4)."
        ) from None
    except dns.name.NameTooLong:
        raise DomainError(
            f"{printable(text)!r} is longer than {MAX_NAME} characters (RFC 1035 §2.3.4)."
        ) from None
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        detail = printable(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__
        raise DomainError(f"{printable(text)!r} is not a valid domain name ({detail}).") from None
    labels = ascii_name.split(".")
    for label in labels:
        if len(label) > MAX_LABEL:
            raise DomainError(
                f"The label {printable(label)!r} is longer than {MAX_LABEL} characters "
                "(RFC 1035 §2.3.4)."
            )
        if not _LDH.match(label):
            raise DomainError(
                f"The label {printable(label)!r} of {printable(text)!r} may hold only letters, "
                "digits and inner hyphens (RFC 5321 §4.1.2)."
            )
    if len(ascii_name) > MAX_NAME:
        raise DomainError(f"{printable(text)!r} is longer than {MAX_NAME} characters.")
    display = text if text.lower() != ascii_name else ascii_name
    return Domain(ascii=ascii_name, display=display, note=note)
