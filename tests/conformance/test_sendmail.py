"""Sendmail 8.17 (Debian's sendmail-bin, unpacked) as a real sender,
case by case, against `Walk` under the sendmail profile.

Each test is one case of mxtui/conformance/cases.toml; the deliveries happen in the background
run started by conftest.py, and a disagreement prints the MTA's log beside the walk's.
"""

from __future__ import annotations

import pytest

from mxtui.conformance.cases import load_cases

MTA = "sendmail"


@pytest.mark.parametrize("conformance_case", [c.id for c in load_cases() if c.applies_to(MTA)])
def test_sendmail_does_what_its_profile_says(conformance_case: str, conformance) -> None:
    conformance.check(MTA, conformance_case)
