"""A real Postfix with smtp_tls_security_level = dane, behind a validating unbound on loopback,
agrees with mxtui's walk on the DANE scenario: both skip a host whose certificate matches no
TLSA record, both deliver to one that matches, both defer when none does (real_dane.py says how
the two are run side by side).

Needs root (namespaces), Postfix and unbound; skipped without them unless MXTUI_REQUIRE_UNBOUND=1
(set by .ci/run, which installs both), which makes a missing piece a failure.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import real_dane

from mxtui.conformance import isolation
from mxtui.lab.scenarios import load_scenario

ADDRESSES = {
    "198.51.100.121": "127.0.1.121",
    "198.51.100.122": "127.0.1.122",
    "198.51.100.153": real_dane.AUTH_ADDRESS,
}
RCPT = "alice@bank.example.org"


def _skip_or_fail() -> None:
    why = real_dane.missing()
    if why:
        if os.environ.get("MXTUI_REQUIRE_UNBOUND") == "1":
            pytest.fail(f"the real-Postfix DANE test cannot run: {why}")
        pytest.skip(why)


def run_isolated(zone: str) -> dict:
    _skip_or_fail()
    folder = Path(tempfile.mkdtemp(prefix="mxtui-real-dane-"))
    folder.chmod(0o755)  # Postfix's own user walks into its data folder below
    job = isolation.Job(
        "dane", real_dane.run, ("dane-rotated-cert", zone, str(folder / "case")),
        folder / "out.json", 180,
    )  # fmt: skip
    try:
        out = isolation.run_jobs([job], parallel=1)["dane"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # Postfix's queue and log, unbound's config
    assert "result" in out, out.get("error", "") + "\n" + out.get("traceback", "")
    return out["result"]


ROTATED = real_dane.local_zone(load_scenario("dane-rotated-cert").zone, ADDRESSES)


def test_both_hosts_rotated_postfix_and_the_walk_defer_after_trying_each():
    result = run_isolated(ROTATED)
    postfix, walk = result["postfix"], result["walk"]
    # Postfix: each MX dialled once, "Server certificate not verified" for each, deferred 4.7.5.
    assert [address for _, address in postfix["dials"]] == ["127.0.1.121", "127.0.1.122"]
    assert postfix["untrusted"] == [
        "mx1.bank.example.org[127.0.1.121]",
        "mx2.bank.example.org[127.0.1.122]",
    ], postfix
    assert postfix["verified"] == [], postfix
    state, dsn, why = postfix["recipients"][RCPT]
    assert (state, dsn) == ("deferred", "4.7.5"), postfix
    assert "Server certificate not verified" in why
    # The walk: the same two hosts, each refused after STARTTLS, the message deferred.
    assert walk["tlsa"] == {"mx1.bank.example.org": "present", "mx2.bank.example.org": "present"}
    assert all(walk["validated"].values())
    assert [(a[1], a[2], a[3]) for a in walk["attempts"]] == [
        ("127.0.1.121", "starttls", "next-address"),
        ("127.0.1.122", "starttls", "requeue"),
    ]
    assert walk["outcome"] == "deferred" and walk["recipients"][RCPT] == "deferred"


def test_mx2_rolled_over_both_deliver_through_it_after_refusing_mx1():
    # mx2's TLSA names its new key as well (a rollover done right): mx1 still fails.
    zone = ROTATED.replace(
        "_25._tcp.mx2  TLSA  3 1 1 lab:mx2.bank.example.org@1",
        "_25._tcp.mx2  TLSA  3 1 1 lab:mx2.bank.example.org@1\n"
        "_25._tcp.mx2  TLSA  3 1 1 lab:mx2.bank.example.org@2",
    )
    assert zone != ROTATED
    result = run_isolated(zone)
    postfix, walk = result["postfix"], result["walk"]
    assert [address for _, address in postfix["dials"]] == ["127.0.1.121", "127.0.1.122"]
    assert postfix["untrusted"] == ["mx1.bank.example.org[127.0.1.121]"], postfix
    assert postfix["verified"] == ["mx2.bank.example.org[127.0.1.122]"], postfix
    assert postfix["recipients"][RCPT][0] == "delivered"
    assert [(a[1], a[2], a[3]) for a in walk["attempts"]] == [
        ("127.0.1.121", "starttls", "next-address"),
        ("127.0.1.122", "dot", "delivered"),
    ]
    assert walk["outcome"] == "delivered"
