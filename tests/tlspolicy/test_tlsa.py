"""Matching a presented chain against TLSA records (RFC 7672 §3): DANE-EE ignores names and
issuers, DANE-TA needs the chain to verify up to the anchor for the MX name, PKIX usages are
unusable for SMTP; every selector and matching type."""

from __future__ import annotations

import pytest
from cryptography import x509

from mxtui.lab.certs import issued_certificate, lab_ca, lab_certificate
from mxtui.tlspolicy.tlsa import TlsaRecord, association, check_chain

HOST = "mx.tlsa.test"


def leaf(generation: int = 1):
    return issued_certificate(HOST, generation).cert


def chain(generation: int = 1):
    return [leaf(generation), lab_ca().cert]


@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("mtype", [0, 1, 2])
def test_dane_ee_matches_the_leaf_by_every_selector_and_type(selector, mtype):
    record = TlsaRecord(3, selector, mtype, association(leaf(), selector, mtype))
    result = check_chain((record,), chain(), (HOST,))
    assert result.outcome == "match"
    assert result.record == record


def test_dane_ee_ignores_the_name_and_the_issuer():
    self_signed = x509.load_pem_x509_certificate(lab_certificate("some.other.name").cert_pem)
    record = TlsaRecord(3, 1, 1, association(self_signed, 1, 1))
    assert check_chain((record,), [self_signed], (HOST,)).outcome == "match"


def test_a_rotated_key_no_longer_matches_the_record_of_the_old_one():
    record = TlsaRecord(3, 1, 1, association(leaf(1), 1, 1))
    result = check_chain((record,), chain(2), (HOST,))
    assert result.outcome == "no-match"
    assert "no record matches" in result.detail


def test_dane_ta_matches_the_ca_in_the_chain_for_the_mx_name():
    record = TlsaRecord(2, 0, 1, association(lab_ca().cert, 0, 1))
    assert check_chain((record,), chain(), (HOST,)).outcome == "match"


def test_dane_ta_fails_when_the_leaf_does_not_name_the_mx_host():
    record = TlsaRecord(2, 1, 2, association(lab_ca().cert, 1, 2))
    result = check_chain((record,), chain(), ("other.tlsa.test",))
    assert result.outcome == "no-match"
    assert "trust anchor is in the chain" in result.detail


def test_dane_ta_needs_the_anchor_in_the_presented_chain():
    record = TlsaRecord(2, 0, 1, association(lab_ca().cert, 0, 1))
    assert check_chain((record,), [leaf()], (HOST,)).outcome == "no-match"


def test_pkix_usages_are_unusable_for_smtp():
    records = (
        TlsaRecord(0, 0, 1, association(lab_ca().cert, 0, 1)),
        TlsaRecord(1, 1, 1, association(leaf(), 1, 1)),
    )
    assert check_chain(records, chain(), (HOST,)).outcome == "unusable"


def test_an_unknown_matching_type_is_unusable_and_names_are_rfc_7218():
    record = TlsaRecord(3, 1, 9, b"\x00")
    assert not record.usable
    assert record.names == "DANE-EE SPKI 9"
    assert TlsaRecord(2, 0, 2, b"").names == "DANE-TA Cert SHA2-512"


def test_no_records_and_no_certificate():
    assert check_chain((), chain(), (HOST,)).outcome == "none"
    record = TlsaRecord(3, 1, 1, association(leaf(), 1, 1))
    assert check_chain((record,), [], (HOST,)).outcome == "no-match"
