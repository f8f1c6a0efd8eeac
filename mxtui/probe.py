"""Probe every address of every MX host at once: is it up, what does it say, does TLS work.

A trainee or an admin wants the whole picture of a domain's mail servers in one go, and a
black-holed address must not make them wait for every other one: so all addresses are probed
concurrently (bounded by a semaphore), each with its own `Session`, and the slowest address costs
one timeout, not the sum of them. A probe goes as far as a sending MTA would before the envelope:
connect, greeting, EHLO (HELO after a 5xx), STARTTLS when offered, then QUIT. It never sends MAIL,
so no server is asked to take anything.

Everything shown comes from `Session`, which has already made server text printable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mxtui.model import Envelope, MXPlan, Reply, Stage, StepResult, Timeouts, TLSInfo, TryTarget
from mxtui.smtp.dialer import Dialer
from mxtui.smtp.session import Session

if TYPE_CHECKING:  # cryptography and the policy code load when a policy is checked
    from cryptography import x509

    from mxtui.tlspolicy.model import TlsPolicy
    from mxtui.tlspolicy.verdict import PolicyCheck

DEFAULT_CONCURRENCY = 20
DEFAULT_TIMEOUT_S = 5.0
PROBE_EHLO_NAME = "localhost"


@dataclass(frozen=True)
class ProbeResult:
    """What one address showed.

    `reachable` means the server took the connection and greeted with 2xx: a sender could start
    a transaction there. A 4xx/5xx greeting is kept in `greeting` with `reachable` false.
    `ms` runs from the start of the connect to the greeting (or to the failure that came
    instead): the latency a sender meets. `total_ms` covers the whole probe, QUIT included.
    `error` says in words what went wrong first (empty when nothing did); `commands` are the
    lines the probe sent, so anyone can check that no MAIL was among them.
    """

    target: TryTarget
    reachable: bool
    greeting: Reply | None
    extensions: tuple[str, ...]
    tls: TLSInfo | None
    ms: float
    total_ms: float
    error: str
    commands: tuple[str, ...] = ()
    policy: PolicyCheck | None = None
    """What the domain's TLS policy (DANE, MTA-STS) made of this address's STARTTLS; None
    when the policy was not looked up."""
    chain: tuple[x509.Certificate, ...] = field(default=(), repr=False, compare=False)
    """The certificates presented at STARTTLS (for `with_policy`; not in the JSON)."""

    def with_policy(self, policy: TlsPolicy) -> ProbeResult:
        """This result checked against a TLS policy looked up while the probe ran."""
        from mxtui.tlspolicy.verdict import check_policy

        if self.greeting is None or self.greeting.klass != 2:
            return self
        return replace(self, policy=check_policy(policy, self.target.host, self.tls, self.chain))

    @property
    def host(self) -> str:
        return self.target.host

    @property
    def address(self) -> str:
        return self.target.address

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.target.host,
            "address": self.target.address,
            "preference": self.target.preference,
            "reachable": self.reachable,
            "greeting": (
                {
                    "code": self.greeting.code,
                    "enhanced": self.greeting.enhanced,
                    "text": self.greeting.text,
                }
                if self.greeting is not None
                else None
            ),
            "extensions": list(self.extensions),
            "tls": self.tls.to_json() if self.tls is not None else None,
            "ms": round(self.ms, 1),
            "total_ms": round(self.total_ms, 1),
            "error": self.error or None,
            "policy": self.policy.to_json() if self.policy is not None else None,
        }


@dataclass(frozen=True)
class ProbeReport:
    """Every address's result, in the plan's order (not the order they finished in)."""

    plan: MXPlan
    results: tuple[ProbeResult, ...]
    elapsed_ms: float
    tls_policy: TlsPolicy | None = None

    @property
    def reachable(self) -> int:
        return sum(1 for r in self.results if r.reachable)

    @property
    def without_address(self) -> tuple[str, ...]:
        """MX hosts the probe could not try: DNS gave them no address (shown, not hidden)."""
        return tuple(h.name for h in self.plan.hosts if not h.addresses)

    def with_policy(self, policy: TlsPolicy) -> ProbeReport:
        """Every row checked against `policy` (looked up beside the probe, not before it)."""
        results = tuple(r.with_policy(policy) for r in self.results)
        return replace(self, results=results, tls_policy=policy)

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.plan.domain,
            "status": str(self.plan.status),
            "hosts": [r.to_json() for r in self.results],
            "without_address": list(self.without_address),
            "elapsed_ms": round(self.elapsed_ms, 1),
            **(
                self.tls_policy.to_json()
                if self.tls_policy is not None
                else {"mta_sts": None, "tls_rpt": None, "mx_dnssec": None, "trust_anchors": None}
            ),
        }


ResultSink = Callable[[ProbeResult], None]


def _extensions(session: Session) -> tuple[str, ...]:
    return tuple(f"{k} {v}" if v else k for k, v in session.extensions.items())


def _why(step: StepResult) -> str:
    """A failed step in words: its error, or its reply (a greeting's text is kept beside it)."""
    if step.stage is Stage.GREETING and step.reply is not None:
        if step.reply.klass == 4:
            return f"greeting {step.reply.code}: the server turns connections away for now"
        return f"greeting {step.reply.code}: the server refuses SMTP service here"
    if step.reply is not None and step.reply.code >= 400:
        text = step.reply.text.splitlines()[0] if step.reply.text else ""
        return f"{step.stage} answered {step.reply.code} {text}".rstrip()
    return f"{step.stage}: {step.error or 'failed'}"


async def probe_address(
    target: TryTarget,
    dialer: Dialer,
    *,
    port: int | None = None,
    timeouts: Timeouts | None = None,
    ehlo_name: str = PROBE_EHLO_NAME,
    tls_policy: TlsPolicy | None = None,
    trust_pem: bytes | None = None,
) -> ProbeResult:
    """Probe one address: connect, greeting, EHLO, STARTTLS if offered, QUIT. Never raises for
    anything the server does; each wait is bounded by `timeouts`."""
    session = Session(
        target.address,
        Envelope("", (), ehlo_name=ehlo_name),
        dialer=dialer,
        port=port,
        tls="optional",
        tls_name=target.host,
        timeouts=timeouts or Timeouts.all(DEFAULT_TIMEOUT_S),
        trust_pem=trust_pem,
    )
    clock = time.perf_counter
    start = clock()
    greeting: Reply | None = None
    greeted_ms: float | None = None
    error = ""
    extensions: tuple[str, ...] = ()
    try:
        connect = await session.connect()
        if connect.ok:
            hello = await session.greeting()
            greeted_ms = (clock() - start) * 1000.0
            greeting = hello.reply
            if greeting is None or greeting.klass != 2:
                error = _why(hello)
            else:
                error, extensions = await _after_greeting(session)
        else:
            error = _why(connect)
        if session.connected and not session.quit_sent:
            await session.quit()
    finally:
        session.close()
    total = (clock() - start) * 1000.0
    result = ProbeResult(
        target=target,
        reachable=greeting is not None and greeting.klass == 2,
        greeting=greeting,
        extensions=extensions,
        tls=session.tls_info,
        ms=greeted_ms if greeted_ms is not None else total,
        total_ms=total,
        error=error,
        commands=tuple(line for step in session.steps for line in step.sent),
        chain=session.tls_chain,
    )
    return result.with_policy(tls_policy) if tls_policy is not None else result


async def _after_greeting(session: Session) -> tuple[str, tuple[str, ...]]:
    """EHLO (or HELO after a 5xx), then STARTTLS when offered.

    Returns the first problem in words, and the extensions offered in the clear (what any
    sender sees first; the session forgets them once TLS starts, as RFC 3207 says it must).
    """
    ehlo = await session.ehlo()
    if session.ehlo_refused:
        helo = await session.helo()
        if not helo.ok:
            return _why(helo), ()
    elif not ehlo.ok:
        return _why(ehlo), ()
    extensions = _extensions(session)
    if "STARTTLS" not in session.extensions:
        return "", extensions
    tls = await session.starttls()
    return ("" if tls.ok else _why(tls)), extensions


async def probe(
    plan: MXPlan,
    dialer: Dialer,
    *,
    port: int | None = None,
    timeout: float | Timeouts = DEFAULT_TIMEOUT_S,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: ResultSink | None = None,
    ehlo_name: str = PROBE_EHLO_NAME,
    tls_policy: TlsPolicy | None = None,
    trust_pem: bytes | None = None,
) -> ProbeReport:
    """Probe every address of `plan` through `dialer`, at most `concurrency` at a time.

    `timeout` bounds the connect and each reply separately (seconds for both, or `Timeouts`
    for each); since addresses run side by side, black-holed ones cost about one timeout in
    all. `on_result` gets each result as it finishes.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    timeouts = timeout if isinstance(timeout, Timeouts) else Timeouts.all(timeout)
    if not min(timeouts.connect, timeouts.reply) > 0:
        raise ValueError("timeout must be more than 0 seconds")
    targets = plan.targets
    gate = asyncio.Semaphore(concurrency)
    start = time.perf_counter()

    async def one(target: TryTarget) -> ProbeResult:
        async with gate:
            result = await probe_address(
                target,
                dialer,
                port=port,
                timeouts=timeouts,
                ehlo_name=ehlo_name,
                tls_policy=tls_policy,
                trust_pem=trust_pem,
            )
        if on_result is not None:
            on_result(result)
        return result

    results = await asyncio.gather(*(one(t) for t in targets))
    return ProbeReport(
        plan, tuple(results), (time.perf_counter() - start) * 1000.0, tls_policy=tls_policy
    )
