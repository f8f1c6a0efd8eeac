"""A DNS server that leaves the SOA out of its negative answers (RFC 2308 asks for it), met by
`mxtui mx` and its TLS-policy lookup. Found by the hostile run of issue 11; the cause is in the
DNSSEC validator (mxtui/tlspolicy/dnssec.py, issue 15): the DS lookup of a zone whose NODATA
answer has no SOA asked for that same zone's keys while finding them, and waited on itself (now
it asks about the parent zone, and a chain that comes back to a zone is cut).
"""

from __future__ import annotations

import hostile_support as hs
import pytest

ZONE = [
    "careless.test. 60 IN SOA ns.careless.test. h.careless.test. 1 60 60 60 60",
    "careless.test. 60 IN MX 10 mx.careless.test.",
    "mx.careless.test. 60 IN A 127.0.0.1",
]


@pytest.mark.parametrize("soa", [True, False], ids=["with-soa", "without-soa"])
def test_mx_ends_whatever_the_negative_answers_hold(hostile_dns, soa) -> None:
    hs.tried("careless dns", 1)
    ns = hostile_dns(hs.static_zone(ZONE, soa_in_negative=soa))
    run = hs.run_mxtui("mx", "careless.test", "--nameserver", ns.nameserver, "--timeout", "2",
                       timeout=20)  # fmt: skip
    assert not run.timed_out, run.describe()
    assert run.returncode == 0 and b"mx.careless.test" in run.stdout, run.describe()
