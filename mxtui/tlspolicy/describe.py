"""Words for a domain's TLS policy, shared by ``mxtui mx``'s text output and the app's tree."""

from __future__ import annotations

from dataclasses import dataclass

from mxtui.model import MXPlan
from mxtui.tlspolicy.dnssec import Security
from mxtui.tlspolicy.model import HostTls, MtaSts, TlsPolicy
from mxtui.tlspolicy.verdict import PolicyCheck

STS_REF = "RFC 8461"
DANE_REF = "RFC 7672"


def sts_words(sts: MtaSts) -> str:
    """One line about the domain's MTA-STS."""
    if sts.state == "absent":
        return "MTA-STS: none published (no _mta-sts TXT record)"
    if sts.state == "dns-error":
        return f"MTA-STS: unknown, {sts.detail}"
    if sts.state == "invalid-record":
        return f"MTA-STS: the _mta-sts record is unusable: {sts.detail} [{STS_REF} §3.1]"
    if sts.state == "fetch-failed":
        return (
            f"MTA-STS: a record (id {sts.id}) but the policy could not be fetched: {sts.detail}; "
            f"a sender without a cached policy sends as if there were none [{STS_REF} §3.3]"
        )
    if sts.state == "invalid-policy":
        return f"MTA-STS: the policy is invalid: {sts.detail} [{STS_REF} §3.2]"
    policy = sts.policy
    assert policy is not None
    return (
        f"MTA-STS: mode {policy.mode}, mx {', '.join(policy.mx) or '(none)'}, "
        f"max_age {policy.max_age} s, id {sts.id}"
    )


def sts_host_words(sts: MtaSts, host: str) -> str:
    """Whether one MX host is in the policy, and what that means (RFC 8461 §4.1, §5)."""
    if sts.policy is None:
        return ""
    pattern = sts.match(host)
    if pattern is not None:
        return f"in the MTA-STS policy ({pattern})"
    if sts.policy.mode == "enforce":
        return f"NOT in the MTA-STS policy: senders enforcing it skip this host [{STS_REF} §4.1]"
    if sts.policy.mode == "testing":
        return f"not in the MTA-STS policy (testing: delivered anyway, reported) [{STS_REF} §5]"
    return "not in the MTA-STS policy (mode none)"


def dane_words(host: HostTls, mx_dnssec: Security) -> str:
    """The host's TLSA state in a sentence: present, validated, usable, and why not."""
    if host.state == "not-asked":
        return f"TLSA not looked up: {host.detail}"
    if host.state == "error":
        return f"TLSA lookup failed: {host.detail}; a DANE sender defers [{DANE_REF} §2.2]"
    if host.state == "absent":
        proven = " (absence proven by DNSSEC)" if host.validated else ""
        return f"no TLSA records{proven}: DANE does not apply"
    records = ", ".join(f"{r.names} ({r.text})" for r in host.records[:4])
    if host.dnssec is Security.BOGUS:
        return f"TLSA {records}: BOGUS ({host.detail}); a DANE sender defers [{DANE_REF} §2.2]"
    if not host.validated:
        return f"TLSA {records}: not validated ({host.dnssec}), so not usable [{DANE_REF} §2.2]"
    if host.address_dnssec is not Security.SECURE:
        return f"TLSA {records}: validated, but the host's addresses are {host.address_dnssec}"
    if not host.usable:
        return f"TLSA {records}: validated, none usable for SMTP [{DANE_REF} §3.1]"
    insecure_mx = "" if mx_dnssec is Security.SECURE else f" (but the MX records are {mx_dnssec})"
    return f"TLSA {records}: validated, usable{insecure_mx}"


def policy_lines(policy: TlsPolicy, plan: MXPlan) -> list[str]:
    """The TLS-policy section of ``mxtui mx``'s text output."""
    anchors = "the lab's keys" if policy.anchors == "lab" else "the root's keys"
    lines = [f"TLS policy (DNSSEC checked from {anchors}; MX records {policy.mx_dnssec})"]
    lines.append(f"  {sts_words(policy.mta_sts)}")
    if policy.tls_rpt.state == "ok":
        lines.append(f"  TLS-RPT: reports to {', '.join(policy.tls_rpt.rua)}")
    elif policy.tls_rpt.state == "invalid":
        lines.append(f"  TLS-RPT: the _smtp._tls record is unusable: {policy.tls_rpt.detail}")
    for host in plan.hosts:
        found = policy.host(host.name)
        if found is None:
            continue
        lines.append(f"  {host.name}")
        sts = sts_host_words(policy.mta_sts, host.name)
        if sts:
            lines.append(f"    {sts}")
        lines.append(f"    {dane_words(found, policy.mx_dnssec)}")
    return lines


def policy_detail(check: PolicyCheck) -> list[str]:
    """The lines under a probe row: what DANE and MTA-STS made of this address's STARTTLS."""
    lines = []
    dane = check.dane
    if dane.applies:
        verdict = {
            "match": "DANE: the certificate matches a TLSA record",
            "no-match": "DANE: the certificate matches NO TLSA record; a DANE sender will not "
            f"deliver here [{DANE_REF} §3]",
            "no-tls": f"DANE: TLSA records demand TLS, and TLS did not start [{DANE_REF} §2.2]",
        }.get(dane.outcome, f"DANE: {dane.outcome}")
        lines.append(verdict + (f" ({dane.detail})" if dane.detail else ""))
    elif dane.outcome in ("bogus", "error", "unusable"):
        lines.append(f"DANE: {dane.detail}")
    sts = check.sts
    if sts.mode in ("enforce", "testing"):
        lines.append(
            {
                "ok": f"MTA-STS ({sts.mode}): listed as {sts.pattern}, the certificate verifies",
                "not-listed": f"MTA-STS ({sts.mode}): this host is not in the policy "
                f"[{STS_REF} §4.1]",
                "no-tls": f"MTA-STS ({sts.mode}): TLS did not start [{STS_REF} §4.2]",
                "not-verified": f"MTA-STS ({sts.mode}): the certificate does not verify for "
                f"this host: {sts.detail} [{STS_REF} §4.2]",
            }.get(sts.outcome, f"MTA-STS: {sts.outcome}")
        )
    return lines


@dataclass(frozen=True)
class HostPolicy:
    """One MX host's TLS policy, as a tree node holds it (the host and the domain's policy)."""

    host: str
    policy: TlsPolicy

    @property
    def tls(self) -> HostTls | None:
        return self.policy.host(self.host)

    def worth_showing(self) -> bool:
        """Only when there is something to say: a policy that lists hosts, or TLSA records (or
        a failed lookup of them); a host with neither gets no node."""
        tls = self.tls
        return self.policy.mta_sts.policy is not None or (
            tls is not None and tls.state in ("present", "error")
        )

    def label(self) -> tuple[str, str]:
        """The node's few words (a narrow tree cuts the end) and how they read: "ok", "bad" or
        "plain": "STS listed · TLSA ×1 validated, usable"."""
        parts = []
        verdict = "ok"
        sts = self.policy.mta_sts
        if sts.policy is not None and sts.policy.mode in ("enforce", "testing"):
            testing = " (testing)" if sts.policy.mode == "testing" else ""
            if sts.match(self.host) is not None:
                parts.append(f"STS{testing} listed")
            else:
                parts.append(f"STS{testing} NOT listed")
                verdict = "bad" if not testing else "plain"
        tls = self.tls
        if tls is not None and tls.state in ("present", "error"):
            count = f"TLSA ×{len(tls.records)}"
            if tls.state == "error":
                parts.append("TLSA lookup failed")
                verdict = "bad"
            elif tls.dnssec is Security.BOGUS:
                parts.append(f"{count} BOGUS")
                verdict = "bad"
            elif not tls.validated:
                parts.append(f"{count} not validated")
                verdict = "plain" if verdict == "ok" else verdict
            elif tls.usable:
                parts.append(f"{count} validated, usable")
            else:
                parts.append(f"{count} unusable")
                verdict = "plain" if verdict == "ok" else verdict
        return " · ".join(parts), verdict

    def lines(self) -> list[str]:
        """The detail pane's sentences."""
        out = [f"TLS policy of {self.host}"]
        sts = sts_host_words(self.policy.mta_sts, self.host)
        if sts:
            out.append(sts)
        tls = self.tls
        if tls is not None:
            out.append(dane_words(tls, self.policy.mx_dnssec))
            out.append(f"TLSA name: {tls.name}; DNSSEC: records {tls.dnssec}, addresses "
                       f"{tls.address_dnssec}")  # fmt: skip
        return out


def policy_worth_showing(policy: TlsPolicy) -> bool:
    """Whether the domain's node is worth a line: a policy, TLS-RPT, or some host's TLSA."""
    return (
        policy.mta_sts.state != "absent"
        or policy.tls_rpt.state != "absent"
        or any(h.state in ("present", "error") for h in policy.hosts.values())
    )


def policy_label(policy: TlsPolicy) -> str:
    """The domain's TLS-policy node: "TLS policy: MTA-STS enforce · TLS-RPT · DNSSEC secure"."""
    parts = []
    sts = policy.mta_sts
    if sts.policy is not None:
        parts.append(f"STS {sts.policy.mode}")
    elif sts.state != "absent":
        parts.append(f"STS {sts.state}")
    if policy.tls_rpt.state == "ok":
        parts.append("TLS-RPT")
    with_tlsa = sum(1 for h in policy.hosts.values() if h.state == "present")
    if with_tlsa:
        parts.append(f"TLSA ×{with_tlsa}")
    parts.append(f"MX {policy.mx_dnssec}")
    return "TLS policy: " + " · ".join(parts)
