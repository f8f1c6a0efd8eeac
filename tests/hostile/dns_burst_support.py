"""A lab DNS server in a process of its own, for the DNS burst tests.

The server runs apart from the resolver under test, as a real nameserver does, with the kernel's
default socket buffers: a burst of questions that overflows them is lost there, not hidden by a
shared event loop. It runs under a memory and CPU limit, like the runs of `hostile_support`.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

MIB = 1024 * 1024
MEMORY_MB = 1024
CPU_S = 120

_SERVER = textwrap.dedent(
    """
    import asyncio, json, sys
    from mxtui.lab.dns_server import LabDNSServer

    async def main():
        zones = json.loads(sys.argv[1])
        delay = int(sys.argv[2])
        async with LabDNSServer(zones, delay_ms=delay) as server:
            print(server.address[0], server.address[1], flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
            print(json.dumps(server.log), flush=True)

    asyncio.run(main())
    """
)


def limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_MB * MIB, MEMORY_MB * MIB))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_S, CPU_S + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * MIB, 64 * MIB))


@dataclass
class ServerProcess:
    address: tuple[str, int]
    log: list[tuple[str, str, str]] = field(default_factory=list)
    """Filled in when the server stops: one (transport, qname, qtype) per message received."""

    @property
    def nameserver(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"


@contextmanager
def dns_process(zones: str | Sequence[str], delay_ms: int = 0) -> Iterator[ServerProcess]:
    texts = [zones] if isinstance(zones, str) else list(zones)
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, json.dumps(texts), str(delay_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=limits,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        host, port = process.stdout.readline().split()
        server = ServerProcess((host, int(port)))
        yield server
        process.stdin.close()
        server.log = [tuple(entry) for entry in json.loads(process.stdout.readline() or "[]")]
        process.wait(10)
    finally:
        process.kill()
        process.wait()
