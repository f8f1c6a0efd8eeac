"""Domain input rules, without any DNS traffic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mxtui.dns import DomainError, normalise_domain


def test_idn_is_turned_into_a_labels_and_kept_for_display():
    name = normalise_domain("Bücher.Example.")
    assert name.ascii == "xn--bcher-kva.example"
    assert name.display == "Bücher.Example"


def test_case_and_trailing_dot_are_normalised():
    assert normalise_domain("EXAMPLE.com.").ascii == "example.com"


def test_a_leading_at_sign_is_dropped_with_a_note():
    name = normalise_domain("@example.com")
    assert name.ascii == "example.com" and "dropped" in name.note


@given(st.text(max_size=80))
def test_any_input_either_normalises_or_raises_domain_error(value):
    try:
        name = normalise_domain(value)
    except DomainError as exc:
        assert str(exc)
        assert not any(ord(c) < 0x20 for c in str(exc))
    else:
        assert name.ascii == name.ascii.lower() and len(name.ascii) <= 253
        assert all(0 < len(label) <= 63 for label in name.ascii.split("."))


@pytest.mark.parametrize("value", ["mx.example.com", "xn--bcher-kva.example", "a-b.c"])
def test_valid_names_pass_unchanged(value):
    assert normalise_domain(value).ascii == value
