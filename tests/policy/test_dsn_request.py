"""What a sender's DSN request changes, in words (mxtui.policy.dsn_request)."""

from __future__ import annotations

from mxtui.model import DSNRequest
from mxtui.policy.dsn_request import dsn_request_effects


def test_no_request_means_the_defaults_a_bounce_on_failure() -> None:
    (said,) = dsn_request_effects(None, offered=True)
    assert "bounce" in said and "defaults" in said


def test_a_request_to_a_server_without_dsn_is_not_sent() -> None:
    (said,) = dsn_request_effects(DSNRequest(notify=("NEVER",)), offered=False)
    assert "not sent" in said and "bounce on failure" in said


def test_never_silences_even_the_bounce() -> None:
    said = dsn_request_effects(DSNRequest(notify=("NEVER",)), offered=True)
    assert len(said) == 1 and "not even a bounce" in said[0]


def test_success_without_failure_loses_the_bounce_and_gains_a_delivered_notice() -> None:
    request = DSNRequest(notify=("SUCCESS",), ret="FULL", envid="x1", orcpt=True)
    said = " ".join(dsn_request_effects(request, offered=True))
    assert "sends no bounce" in said and "'delivered' DSN" in said
    assert "whole message" in said and "Original-Envelope-Id: x1" in said
    assert "Original-Recipient" in said and "no delay warnings" in said
