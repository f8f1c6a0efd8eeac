"""How long a probe of 40 addresses takes when half of them are black-holed.

Goal: one timeout plus 10 % (elapsed / timeout <= 1.10), not twenty timeouts: the connect and
greeting waits of every address must run side by side.

The domain has 20 MX hosts with one A and one AAAA record each (`many_mx_zone`), resolved through
the lab DNS. The lab (DNS and mail hosts) runs in a process of its own, as real servers would, so
that its work (TLS handshakes, aiosmtpd) does not count against the prober's wall time. Every A
address is a lab host that accepts (greeting, EHLO, STARTTLS, QUIT); every AAAA address is
black-holed in one of two ways:
  silent   a lab host that takes the connection and never greets (the greeting times out)
  no-syn   a dial that never completes, like a dropped SYN (the connect times out)
Orders: "mixed" is the plan's own (A, AAAA, A, AAAA, ...); "dead-first" puts all 20 black-holed
addresses first, so with --concurrency 20 they take every slot before a live one starts: that
run can be no faster than one timeout plus the time the 20 live probes take after it (printed
first, as "the 20 live addresses alone").

Run by hand: python benchmarks/probe.py [--timeouts 1 2] [--concurrency 20 40]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

from mxtui.dns import resolve_mx
from mxtui.lab.demo import many_mx_zone
from mxtui.lab.hosts import HostBehaviour
from mxtui.lab.runtime import Lab
from mxtui.model import MXGroup, MXPlan
from mxtui.probe import probe
from mxtui.smtp.dialer import Dialer, LabDialer, Route

DOMAIN = "bench.test"
HOSTS = 20
GOAL = 1.10


class NoSynDialer:
    """The lab's dialer, except that dials to IPv6 addresses never complete (a black hole)."""

    def __init__(self, inner: LabDialer) -> None:
        self.inner = inner

    def route(self, address: str, port: int | None = None) -> Route:
        return self.inner.route(address, port)

    def is_lab(self, address: str, port: int | None = None) -> bool:
        return self.inner.is_lab(address, port)

    async def connect(
        self, address: str, port: int | None, protocol_factory: Callable[[], asyncio.BaseProtocol],
        **kwargs: object,
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:  # fmt: skip
        if ":" in address:
            await asyncio.Event().wait()  # the session's connect timeout ends this
        return await self.inner.connect(address, port, protocol_factory, **kwargs)  # type: ignore[arg-type]


def behaviours() -> dict[str, HostBehaviour]:
    """The host behind each address `many_mx_zone` writes: A accepts, AAAA is silent."""
    out: dict[str, HostBehaviour] = {}
    for i in range(HOSTS):
        name = f"mx{i:02d}.{DOMAIN}"
        out[f"198.51.100.{i % 250 + 1}"] = HostBehaviour("accept", hostname=name)
        out[f"2001:db8:100::{i + 1:x}"] = HostBehaviour("silent", hostname=name)
    return out


def only(plan: MXPlan, family: int) -> MXGroup:
    hosts = tuple(
        dataclasses.replace(h, addresses=tuple(a for a in h.addresses if a.family == family))
        for h in plan.hosts
    )
    return MXGroup(10, hosts)


def dead_first(plan: MXPlan) -> MXPlan:
    """The same addresses, the IPv6 (black-holed) ones first."""
    return dataclasses.replace(plan, groups=(only(plan, 6), only(plan, 4)))


def _serve(zone: str, conn: Connection) -> None:
    async def run() -> None:
        async with Lab(zone, domain=DOMAIN, faults={}, hosts=behaviours()) as lab:
            conn.send((lab.nameservers, dict(lab.smtp.endpoints)))
            while not conn.poll():
                await asyncio.sleep(0.05)

    asyncio.run(run())


@contextmanager
def lab_process(
    zone: str,
) -> Iterator[tuple[list[tuple[str, int]], dict[str, tuple[str, int]]]]:
    mine, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve, args=(zone, theirs), daemon=True)
    process.start()
    try:
        yield mine.recv()
    finally:
        mine.send("stop")
        process.join(10)
        process.kill()


async def measure(
    plan: MXPlan, dialer: Dialer, timeout: float, concurrency: int
) -> tuple[float, int, int]:
    started = time.perf_counter()
    report = await probe(plan, dialer, timeout=timeout, concurrency=concurrency)
    return time.perf_counter() - started, report.reachable, len(report.results)


async def main(timeouts: list[float], concurrencies: list[int]) -> bool:
    zone = many_mx_zone(DOMAIN, HOSTS)
    with lab_process(zone) as (nameservers, endpoints):
        lab_dialer = LabDialer(endpoints)
        plan = await resolve_mx(DOMAIN, nameservers=nameservers, timeout=5)
        await probe(plan, lab_dialer, timeout=0.2)  # warm up: certificates, imports
        live_only = dataclasses.replace(plan, groups=(only(plan, 4),))
        phases = []
        for conc in concurrencies:
            elapsed, _, _ = await measure(live_only, lab_dialer, 5.0, conc)
            phases.append(f"{elapsed * 1000:.0f} ms at concurrency {conc}")
        print(f"the 20 live addresses alone: {', '.join(phases)}\n")
        header = (
            f"{'black hole':<10} {'order':<10} {'conc':>4} {'addrs':>5} {'live':>4} "
            f"{'timeout s':>9} {'elapsed s':>9} {'ratio':>6}  goal <= {GOAL:.2f}"
        )
        print(header)
        print("-" * len(header))
        ok = True
        for kind, dialer in (("silent", lab_dialer), ("no-syn", NoSynDialer(lab_dialer))):
            for order, shown in (("mixed", plan), ("dead-first", dead_first(plan))):
                for timeout in timeouts:
                    for conc in concurrencies:
                        elapsed, live, total = await measure(shown, dialer, timeout, conc)
                        ratio = elapsed / timeout
                        good = ratio <= GOAL and live == total // 2
                        ok &= good
                        print(
                            f"{kind:<10} {order:<10} {conc:>4} {total:>5} {live:>4} "
                            f"{timeout:>9.2f} {elapsed:>9.3f} {ratio:>6.3f}  "
                            f"{'ok' if good else 'MISSED'}"
                        )
        print(f"\ngoal {'met' if ok else 'MISSED'}: every run within one timeout plus 10 %")
        return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeouts", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[20, 40])
    ns = parser.parse_args()
    raise SystemExit(0 if asyncio.run(main(ns.timeouts, ns.concurrency)) else 1)
