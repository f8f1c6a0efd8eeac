"""Lab scenarios: the situations a trainer shows, each a TOML file beside this module.

A scenario is data, not code, so a trainer can read it, check it against the reference and write
a new one without touching Python. Each file holds a zone (zone-file text), the behaviour of the
mail host behind every address, optional DNS faults, an envelope, the profile to start with, the
outcome expected under each profile it is meant to show, and a narrative to read aloud.

The loader checks everything it can before any socket opens, and every error is a one-line
`ScenarioError` (a `UsageError`: exit 2 from any command) that names the file and the key,
because a trainer editing a file in front of a class needs to know where the mistake is, not
read a traceback.

A host table takes the settings of `mxtui.lab.hosts.HostBehaviour`: a `kind` and its
tuning, plus options for any kind: ``rcpt_replies`` (a sub-table answering RCPT per recipient,
local part or full address → ``"accept"`` or a reply such as ``"450 4.2.1 ..."``),
``replies`` (a sub-table scripting the reply at ``mail``, ``rcpt``, ``data`` or ``dot``),
``enhanced_codes = false`` (an MTA without RFC 2034 codes, like Exim), ``up_after_s`` (down,
refusing connections, until that simulated time) and ``relay = true`` with ``relay_profile`` (a
store-and-forward backup MX whose onward delivery the walk shows as a second hop when given
``relays=relay_profiles(scenario.hosts)``).

Only documentation addresses (RFC 5737, RFC 3849) may appear in a zone or as a host: the lab
dialer sends them to loopback, and a scenario must never name a real machine.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone

from mxtui.desk.envelope import EnvelopeChoice, default_envelope
from mxtui.dns import DomainError, normalise_domain
from mxtui.errors import UsageError
from mxtui.fields import FieldError, check_envelope
from mxtui.filedata import FileDataError, check_controls, load_toml, read_limited
from mxtui.lab.dns_server import Fault, LabDNSServer
from mxtui.lab.hosts import HostBehaviour, behaviour_from_dict
from mxtui.lab.runtime import Lab
from mxtui.lab.tls_policy import PolicySpec
from mxtui.lab.tlsa_tokens import expand_tlsa
from mxtui.model import Envelope, PlanStatus
from mxtui.policy import PROFILES
from mxtui.text import printable

OUTCOMES: tuple[str, ...] = ("delivered", "partial", "deferred", "bounced")
"""The walk's outcomes (the `outcome` key of `mxtui walk --json`)."""

DOCUMENTATION_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)

_KEYS = {
    "name",
    "title",
    "domain",
    "zone",
    "hosts",
    "faults",
    "envelope",
    "profile",
    "expect",
    "plan_status",
    "narrative",
    "mta_sts",
    "params",
}
_REQUIRED = ("name", "title", "domain", "zone", "hosts", "envelope", "profile", "expect")
_FAULT_TYPES: dict[str, type] = {"servfail": bool, "silent": bool, "delay_ms": int, "rdtype": str}


class ScenarioError(UsageError):
    """A scenario that cannot be used: one line naming the file and the key."""


@dataclass(frozen=True)
class Scenario:
    """One lab scenario, checked and ready to start with `lab()`."""

    name: str
    title: str
    domain: str
    zone: str
    hosts: Mapping[str, HostBehaviour]
    """Mail host behaviour by documentation address (the lab dialer's keys)."""
    envelope: Envelope
    profile: str
    """The profile the app starts with."""
    expect: Mapping[str, str]
    """Expected walk outcome by profile name: the profiles this scenario is meant to show."""
    narrative: str
    plan_status: PlanStatus = PlanStatus.MX
    """What the MX lookup of `domain` finds in this zone."""
    faults: Mapping[str, tuple[Fault, ...]] = field(default_factory=dict)
    source: str = ""
    """The file it was read from, for messages."""
    policies: Mapping[str, PolicySpec] = field(default_factory=dict)
    """MTA-STS policy hosts by the documentation address of mta-sts.DOMAIN (``[mta_sts]``)."""
    params: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    """Profile settings by profile name (``[params.postfix]``): the knobs this scenario shows
    (a DANE-validating Postfix…); its expected outcomes are under these settings."""

    def params_for(self, profile: str) -> dict[str, object]:
        return dict(self.params.get(profile, {}))

    @property
    def profiles(self) -> tuple[str, ...]:
        return tuple(self.expect)

    def lab(self) -> Lab:
        """A fresh lab (DNS server and hosts, not yet started) playing this scenario."""
        return Lab(
            self.zone,
            domain=self.domain,
            faults={name: list(f) for name, f in self.faults.items()},
            hosts=dict(self.hosts),
            examples=((self.domain, self.title),),
            policies=dict(self.policies),
        )


def _package_files() -> dict[str, Any]:
    root = resources.files(__name__)
    return {
        entry.name.removesuffix(".toml"): entry
        for entry in root.iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    }


def scenario_names() -> list[str]:
    """The names of the built-in scenarios, sorted."""
    return sorted(_package_files())


def load_scenario(name: str) -> Scenario:
    """The built-in scenario `name`; a ScenarioError lists the known names when there is none."""
    files = _package_files()
    if name not in files:
        raise ScenarioError(f"unknown scenario {name!r}; choose one of: {', '.join(sorted(files))}")
    return _builtin(name)


@functools.cache
def _builtin(name: str) -> Scenario:
    """A built-in scenario, read and checked once per process: the files ship with the package
    and do not change while it runs, and the picker, the palette and each walk read them (a
    Scenario is frozen and `lab()` copies what a lab may change)."""
    text = _package_files()[name].read_text(encoding="utf-8")
    return parse_scenario(text, source=f"{name}.toml")


def load_scenario_file(path: str | Path) -> Scenario:
    """A scenario from a trainer's own TOML file (same format as the built-in ones)."""
    p = Path(path)
    try:
        text = read_limited(p).decode("utf-8")
    except (OSError, UnicodeError, FileDataError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(printable(f"{p}: cannot read: {reason}")) from None
    return parse_scenario(text, source=str(p), require_name=False)


def list_scenarios() -> list[Scenario]:
    """Every built-in scenario, sorted by name."""
    return [load_scenario(name) for name in scenario_names()]


# --------------------------------------------------------------------------------------------
# Parsing and checking
# --------------------------------------------------------------------------------------------


def parse_scenario(text: str, *, source: str, require_name: bool = True) -> Scenario:
    """Parse and check one scenario's TOML text.

    With `require_name` true the `name` key must match the file name (`source` minus ``.toml``),
    so `load_scenario(name)` and the file agree; a trainer's own file may name itself freely.
    """

    def fail(key: str, message: str) -> ScenarioError:
        # A scenario file is untrusted text: the whole message follows the printable rule.
        return ScenarioError(printable(f"{source}: {key}: {message}"))

    try:
        data = load_toml(text)
        check_controls(data)
    except FileDataError as exc:
        raise ScenarioError(f"{printable(source)}: {exc}") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key; known: {', '.join(sorted(_KEYS))}")
    for key in _REQUIRED:
        if key not in data:
            raise fail(key, "missing")

    def string(key: str) -> str:
        """A one-line text (name, title): shown as printable text wherever it appears."""
        value = data.get(key, "")
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"must be a non-empty string, not {value!r}")
        return printable(" ".join(value.split()))

    name = string("name")
    if require_name and name != Path(source).name.removesuffix(".toml"):
        raise fail("name", f"{name!r} does not match the file name")
    try:
        domain = normalise_domain(string("domain")).ascii  # the A-label form, as DNS asks it
    except DomainError as exc:
        raise fail("domain", str(exc)) from None
    zone = data["zone"]
    if not isinstance(zone, str) or not zone.strip():
        raise fail("zone", "must be zone-file text")
    faults = _faults(data.get("faults", {}), fail)
    try:
        LabDNSServer(zone, faults=faults)
    except ValueError as exc:
        raise fail("zone" if "zone" in str(exc) else "faults", str(exc)) from None
    _check_zone(zone, domain, fail)
    narrative = data.get("narrative", "")
    if not isinstance(narrative, str) or not narrative.strip():
        raise fail("narrative", "must be a few sentences of text")
    profile = string("profile")
    if profile not in PROFILES:
        raise fail("profile", f"unknown profile {profile!r}; one of: {', '.join(PROFILES)}")
    expect = _expect(data["expect"], fail)
    if profile not in expect:
        raise fail("profile", f"{profile!r} has no expected outcome in [expect]")
    status = data.get("plan_status", str(PlanStatus.MX))
    try:
        plan_status = PlanStatus(status)
    except ValueError:
        known = ", ".join(str(s) for s in PlanStatus)
        raise fail("plan_status", f"{status!r} is not one of: {known}") from None
    policies = _mta_sts(data.get("mta_sts"), domain, fail)
    params = _params(data.get("params", {}), fail)
    return Scenario(
        policies=policies,
        params=params,
        name=name,
        title=string("title"),
        domain=domain,
        zone=zone,
        hosts=_hosts(data["hosts"], fail),
        envelope=_envelope(data["envelope"], fail),
        profile=profile,
        expect=expect,
        narrative="\n\n".join(
            printable(" ".join(p.split())) for p in narrative.split("\n\n") if p.strip()
        ),
        plan_status=plan_status,
        faults=faults,
        source=source,
    )


def _mta_sts(value: Any, domain: str, fail: Any) -> dict[str, PolicySpec]:
    """``[mta_sts]``: ``address`` (the documentation address of mta-sts.DOMAIN in the zone)
    and ``policy`` (its text, RFC 8461 §3.2), served over HTTPS by the lab's policy host."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail("mta_sts", "must be a table with address and policy")
    extra = sorted(set(value) - {"address", "policy"})
    if extra:
        raise fail(f"mta_sts.{extra[0]}", "unknown key; known: address, policy")
    address, policy = value.get("address"), value.get("policy")
    if not isinstance(address, str) or not _is_documentation(address):
        raise fail("mta_sts.address", "must be the documentation address of mta-sts.DOMAIN")
    if not isinstance(policy, str) or not policy.strip() or len(policy) > 4096:
        raise fail("mta_sts.policy", "must be the policy text (a few lines)")
    return {str(ipaddress.ip_address(address)): PolicySpec(domain, policy)}


def _params(value: Any, fail: Any) -> dict[str, dict[str, object]]:
    """``[params.NAME]``: settings of profile NAME, checked now (an unknown one is an error)."""
    if not isinstance(value, dict):
        raise fail("params", "must be tables like [params.postfix]")
    out: dict[str, dict[str, object]] = {}
    for name, table in value.items():
        if name not in PROFILES:
            raise fail(f"params.{name}", f"unknown profile; one of: {', '.join(PROFILES)}")
        if not isinstance(table, dict):
            raise fail(f"params.{name}", "must be a table of settings")
        try:
            PROFILES[name].parse(table)
        except ValueError as exc:
            raise fail(f"params.{name}", str(exc)) from None
        out[name] = dict(table)
    return out


def _is_documentation(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in DOCUMENTATION_NETWORKS)


def _check_zone(zone: str, domain: str, fail: Any) -> None:
    """The domain lies in the zone, and every address in it is a documentation address."""
    try:
        parsed = dns.zone.from_text(
            expand_tlsa(zone), origin=None, relativize=False, check_origin=False
        )
        name = dns.name.from_text(domain)
    except (dns.exception.DNSException, ValueError) as exc:
        raise fail("domain", str(exc)) from None
    assert parsed.origin is not None
    if not name.is_subdomain(parsed.origin):
        raise fail("domain", f"{domain} is not inside the zone {parsed.origin}")
    for owner, rdataset in parsed.iterate_rdatasets():
        if rdataset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            for rdata in rdataset:
                if not _is_documentation(rdata.address):
                    raise fail(
                        "zone",
                        f"{owner} has address {rdata.address}, which is not a documentation "
                        "address (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32)",
                    )


def _hosts(value: Any, fail: Any) -> dict[str, HostBehaviour]:
    if not isinstance(value, dict) or not value:
        raise fail("hosts", 'must be tables like [hosts."192.0.2.10"] with a kind')
    hosts: dict[str, HostBehaviour] = {}
    for address, table in value.items():
        key = f"hosts.{address}"
        if not _is_documentation(address):
            raise fail(key, "not a documentation address (192.0.2.0/24, 2001:db8::/32, ...)")
        if not isinstance(table, dict):
            raise fail(key, "must be a table of host settings")
        if "hostname" in table:
            table = {**table, "hostname": _hostname(table["hostname"], f"{key}.hostname", fail)}
        try:
            hosts[str(ipaddress.ip_address(address))] = behaviour_from_dict(table)
        except ValueError as exc:
            raise fail(key, str(exc)) from None
    return hosts


def _hostname(value: Any, key: str, fail: Any) -> str:
    """A host's name as DNS and certificates need it: a valid domain name, in A-labels."""
    if not isinstance(value, str) or "@" in value:
        raise fail(key, f"must be a host name like mx.example.com, not {value!r}")
    try:
        return normalise_domain(value).ascii
    except DomainError as exc:
        raise fail(key, str(exc)) from None


def _faults(value: Any, fail: Any) -> dict[str, tuple[Fault, ...]]:
    if not isinstance(value, dict):
        raise fail("faults", 'must be tables like [faults."mx.example.com"]')
    faults: dict[str, tuple[Fault, ...]] = {}
    for owner, spec in value.items():
        key = f"faults.{owner}"
        tables = spec if isinstance(spec, list) else [spec]
        out = []
        for table in tables:
            if not isinstance(table, dict):
                raise fail(key, "must be a table (or an array of tables) of fault settings")
            for setting, v in table.items():
                wanted = _FAULT_TYPES.get(setting)
                if wanted is None:
                    known = ", ".join(_FAULT_TYPES)
                    raise fail(key, f"unknown setting {setting!r}; known: {known}")
                if not isinstance(v, wanted) or (wanted is int and isinstance(v, bool)):
                    raise fail(key, f"{setting!r} must be {wanted.__name__}, not {v!r}")
            try:
                out.append(Fault(**table))
            except (TypeError, ValueError) as exc:
                raise fail(key, str(exc)) from None
        faults[owner] = tuple(out)
    return faults


def _envelope(value: Any, fail: Any) -> Envelope:
    if not isinstance(value, dict):
        raise fail("envelope", "must be a table with 'from' and 'to'")
    extra = sorted(set(value) - {"from", "to"})
    if extra:
        raise fail(f"envelope.{extra[0]}", "unknown key; known: from, to")
    sender = value.get("from")
    if not isinstance(sender, str):
        raise fail("envelope.from", 'must be an address ("" for the null sender)')
    to = value.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to or not all(isinstance(t, str) and "@" in t for t in to):
        raise fail("envelope.to", "must be a non-empty list of addresses")
    try:  # the same check as `mxtui smtp --from/--to`: what cannot go on an SMTP line
        check_envelope(sender, to, flags=("envelope.from", "envelope.to", "", ""))
    except FieldError as exc:  # "envelope.to 'value': what is wrong"
        key, _, problem = str(exc).partition(" ")
        raise fail(key, problem) from None
    # The lab's own envelope (EHLO client.lab.test, as every lab conversation says) with the
    # scenario's sender and recipients: the one default (mxtui.desk.envelope), not Envelope's.
    return default_envelope("", lab=True, chosen=EnvelopeChoice(sender, tuple(to)))


def _expect(value: Any, fail: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise fail("expect", 'must be a table like { postfix = "delivered" }')
    for profile, outcome in value.items():
        if profile not in PROFILES:
            raise fail(f"expect.{profile}", f"unknown profile; one of: {', '.join(PROFILES)}")
        if outcome not in OUTCOMES:
            raise fail(f"expect.{profile}", f"{outcome!r} is not one of: {', '.join(OUTCOMES)}")
    return dict(value)
