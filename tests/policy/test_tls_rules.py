"""What each profile's TLS knobs demand of one MX host (DANE, MTA-STS), read from Postfix's
smtp_tls_policy.c, Exim's smtp.c/host.c and the RFCs; and the decision table's TLS-policy rows."""

from __future__ import annotations

import pytest

from mxtui.model import Action, Outcome
from mxtui.policy import PROFILES, decide
from mxtui.tlspolicy.dnssec import Security
from mxtui.tlspolicy.model import HostTls, MtaSts, TlsPolicy, TlsRpt
from mxtui.tlspolicy.records import StsPolicy
from mxtui.tlspolicy.tlsa import TlsaRecord

HOST = "mx.example.test"
USABLE = (TlsaRecord(3, 1, 1, b"\x01" * 32),)
PKIX_ONLY = (TlsaRecord(1, 1, 1, b"\x01" * 32),)


def host_tls(state="present", records=USABLE, dnssec=Security.SECURE, addresses=Security.SECURE):
    return HostTls(HOST, f"_25._tcp.{HOST}", state, records, dnssec, addresses, "detail")


def policy(host=None, mode=None, mx=(HOST,), mx_dnssec=Security.SECURE):
    sts = (
        MtaSts("ok", "v=STSv1; id=1", "1", "url", StsPolicy(mode, mx, 3600))
        if mode
        else MtaSts("absent")
    )
    hosts = {HOST: host} if host is not None else {}
    return TlsPolicy("example.test", mx_dnssec, sts, TlsRpt("absent"), hosts)


def demand(profile, pol, **params):
    prof = PROFILES[profile]
    return prof.tls.demand(prof.parse(params), pol, HOST)


DANE = {"smtp_tls_security_level": "dane", "smtp_dns_support_level": "dnssec"}


@pytest.mark.parametrize(
    ("host", "params", "level", "skip"),
    [
        (host_tls(), {}, "may", None),  # the default level ignores TLSA records
        (host_tls(), DANE, "dane", None),
        (host_tls(), {"smtp_tls_security_level": "dane"}, "may", None),  # no dnssec lookups
        (host_tls(records=PKIX_ONLY), DANE, "encrypt", None),
        (host_tls(state="absent", records=()), DANE, "may", None),
        (host_tls(addresses=Security.INSECURE), DANE, "may", None),  # tls_dane.c:670
        (host_tls(dnssec=Security.INSECURE), DANE, "may", None),
        (host_tls(dnssec=Security.BOGUS), DANE, "may", Outcome.TLSA_ERROR),
        (host_tls(state="error", records=()), DANE, "may", Outcome.TLSA_ERROR),
        (
            host_tls(state="absent", records=()),
            {**DANE, "smtp_tls_security_level": "dane-only"},
            "may",
            Outcome.TLSA_ERROR,
        ),
        (host_tls(), {"smtp_tls_security_level": "none"}, "none", None),
        (host_tls(), {"smtp_tls_security_level": "encrypt"}, "encrypt", None),
    ],
)
def test_postfix_security_levels(host, params, level, skip):
    found = demand("postfix", policy(host), **params)
    assert (found.level, found.skip) == (level, skip), found.why


def test_postfix_dane_applies_to_hosts_of_an_insecure_mx_rrset_as_half_dane():
    found = demand("postfix", policy(host_tls(), mx_dnssec=Security.INSECURE), **DANE)
    assert found.level == "dane"


def test_the_mta_sts_resolver_overrides_the_level_with_the_policy_patterns():
    pol = policy(host_tls(), mode="enforce", mx=("mx.example.test", "*.example.net"))
    found = demand("postfix", pol, mta_sts_resolver="yes", **DANE)
    assert found.level == "verify" and found.names == ("mx.example.test", ".example.net")
    assert found.skip is None  # Postfix dials it; the certificate check decides
    testing = policy(host_tls(), mode="testing")
    assert demand("postfix", testing, mta_sts_resolver="yes").level == "may"
    assert demand("postfix", testing, mta_sts_resolver="yes",
                  mta_sts_strict_testing="yes").level == "verify"  # fmt: skip


@pytest.mark.parametrize(
    ("host", "params", "level", "skip"),
    [
        (host_tls(), {}, "dane", None),  # hosts_try_dane = * by default (4.93+)
        (host_tls(), {"hosts_try_dane": "no"}, "may", None),
        (host_tls(addresses=Security.INSECURE), {}, "may", None),
        (host_tls(addresses=Security.INSECURE), {"hosts_require_dane": "yes"}, "may",
         Outcome.TLSA_ERROR),
        (host_tls(dnssec=Security.INSECURE), {}, "may", None),  # logged, no DANE
        (host_tls(state="error", records=()), {}, "may", Outcome.TLSA_ERROR),
        (host_tls(state="absent", records=()), {"hosts_require_dane": "yes"}, "may",
         Outcome.TLSA_ERROR),
        (host_tls(), {"dnssec_request_domains": "no"}, "may", None),
    ],
)  # fmt: skip
def test_exim_dane_options(host, params, level, skip):
    found = demand("exim", policy(host), **params)
    assert (found.level, found.skip) == (level, skip), found.why


def test_exim_has_no_mta_sts():
    found = demand("exim", policy(host_tls(state="absent", records=()), mode="enforce", mx=()))
    assert found.level == "may" and found.skip is None


def test_the_rfc_baseline_prefers_dane_then_mta_sts():
    assert demand("rfc", policy(host_tls(), mode="enforce", mx=())).level == "dane"
    unlisted = demand("rfc", policy(host_tls(state="absent", records=()), mode="enforce", mx=()))
    assert unlisted.skip is Outcome.STS_NOT_LISTED
    listed = demand("rfc", policy(host_tls(state="absent", records=()), mode="enforce"))
    assert listed.level == "verify" and listed.names == (HOST,)
    testing = demand("rfc", policy(host_tls(state="absent", records=()), mode="testing", mx=()))
    assert testing.level == "may"  # testing: delivered anyway, only reported (RFC 8461 §5)
    assert demand("rfc", policy(host_tls()), dane="no").level == "may"


def test_exchange_server_applies_neither_exchange_online_both():
    pol = policy(host_tls(), mode="enforce")
    assert demand("exchange", pol).level == "may"
    assert demand("exchange", pol, microsoft_365="yes").level == "dane"


@pytest.mark.parametrize("profile", ["qmail", "sendmail", "opensmtpd", "postfix-2.0"])
def test_profiles_without_dane_or_mta_sts_ask_nothing_more(profile):
    assert demand(profile, policy(host_tls(), mode="enforce", mx=())).level == "may"
    decision = decide("starttls", "dane-fail", profile)
    assert not decision.applicable


@pytest.mark.parametrize(
    "outcome", ["tls-not-offered", "dane-fail", "sts-fail", "sts-not-listed", "tlsa-error"]
)
def test_a_refused_host_is_skipped_then_the_message_deferred_on_the_last(outcome):
    from mxtui.model import DecisionContext

    moving = decide("starttls", outcome, "rfc")
    assert moving.action in (Action.NEXT_ADDRESS, Action.NEXT_MX)
    last = decide("starttls", outcome, "rfc", DecisionContext(last_address=True))
    assert last.action is Action.REQUEUE and last.status.startswith("4")
    assert "RFC" in last.reference


def test_postfix_choice_parameters_are_checked():
    from mxtui.policy.profiles import ProfileError

    with pytest.raises(ProfileError, match="expected one of none, may"):
        PROFILES["postfix"].parse({"smtp_tls_security_level": "strict"})
