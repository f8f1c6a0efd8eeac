"""How many round trips an MX tree costs: a 3-host and a 40-host domain through the lab DNS with
50 ms added to every answer (A and AAAA for each host). Goal: at most 2.2 round trips for both.

The lab DNS server runs in a process of its own, as a real nameserver would, so that its work
does not count against the resolver's wall time.

Run by hand: python benchmarks/mx_resolve.py [--delay-ms 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

import dns.asyncquery
import dns.message

from mxtui.dns import resolve_mx
from mxtui.lab.demo import many_mx_zone
from mxtui.lab.dns_server import LabDNSServer


def _serve(zone: str, delay_ms: int, conn: Connection) -> None:
    async def run() -> None:
        async with LabDNSServer(zone, delay_ms=delay_ms) as server:
            conn.send(server.address)
            while not conn.poll():
                await asyncio.sleep(0.05)
            conn.send(sum(1 for t, _, _ in server.log if t == "tcp"))

    asyncio.run(run())


@contextmanager
def dns_process(zone: str, delay_ms: int) -> Iterator[tuple[tuple[str, int], Connection]]:
    mine, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve, args=(zone, delay_ms, theirs), daemon=True)
    process.start()
    try:
        yield mine.recv(), mine
    finally:
        process.join(5)
        process.kill()


async def round_trip(address: tuple[str, int], runs: int) -> float:
    """The measured time of one query to this server: the unit a round trip really costs."""
    query = dns.message.make_query("ns.rtt.test", "A", use_edns=0, payload=1232)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await dns.asyncquery.udp(query, address[0], port=address[1], timeout=10)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def measure(hosts: int, delay_ms: int, runs: int) -> tuple[float, float, int, bool]:
    domain = f"hosts{hosts}.test"
    with dns_process(many_mx_zone(domain, hosts), delay_ms) as (address, conn):
        rtt = await round_trip(address, runs)
        walls, queries = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            plan = await resolve_mx(domain, nameservers=[address], timeout=10)
            walls.append(time.perf_counter() - started)
            assert len(plan.hosts) == hosts and all(len(h.addresses) == 2 for h in plan.hosts)
            queries = plan.queries
        conn.send("stop")
        tcp = conn.recv() > 0
        return statistics.median(walls), rtt, queries, tcp


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    nominal = args.delay_ms / 1000
    print(f"lab DNS, {args.delay_ms} ms added to every answer, median of {args.runs} runs")
    print("round trips = wall time / the measured time of one query to the same server")
    print(
        f"{'hosts':>6} {'wall ms':>9} {'1 query ms':>11} {'queries':>8} {'TCP':>4} "
        f"{'round trips':>12} {'vs delay':>9} {'goal':>5}"
    )
    for hosts in (3, 40):
        wall, rtt, queries, tcp = await measure(hosts, args.delay_ms, args.runs)
        versus = f"{wall / nominal:.2f}" if nominal else "-"
        verdict = "ok" if wall / rtt <= 2.2 else "MISS"
        print(
            f"{hosts:>6} {wall * 1000:>9.1f} {rtt * 1000:>11.1f} {queries:>8} "
            f"{'yes' if tcp else 'no':>4} {wall / rtt:>12.2f} {versus:>9} {verdict:>5}"
        )


if __name__ == "__main__":
    asyncio.run(main())
