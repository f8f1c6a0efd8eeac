"""Where the unpacked MTAs live, how they get there, and what each case's namespace needs of them.

Exim, OpenSMTPD and Sendmail conflict with Postfix as Debian packages (each provides
mail-transport-agent), so they are never installed: `apt-get download` fetches their .deb files
and `dpkg-deb -x` unpacks each MTA into a folder of its own under `mta_root()`
(/var/cache/mxtui/mtas by default, `MXTUI_MTAS` to change it). A folder every user can enter,
because Exim drops root and re-executes itself from there.

Inside a case's namespace, the unpacked programs get what an installed package would have had:
their users in a copy of /etc/passwd and /etc/group, and a loader cache that lists the unpacked
library folder (Exim is setuid, so the loader ignores LD_LIBRARY_PATH). Each is bind-mounted
over the real file, visible to that namespace only.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mxtui.conformance.isolation import bind

PACKAGES: dict[str, tuple[str, ...]] = {
    "exim": ("exim4-base", "exim4-config", "exim4-daemon-light", "libidn12"),
    "opensmtpd": ("opensmtpd",),
    "sendmail": ("sendmail-bin", "sendmail-base", "sendmail-cf", "libwrap0"),
}
"""Debian 12 packages unpacked per MTA (their other dependencies are on a Postfix machine;
Sendmail's configuration is made with m4, which installs beside Postfix)."""

FIRST_FREE_ID = 61000


def mta_root(mta: str | None = None) -> Path:
    base = Path(os.environ.get("MXTUI_MTAS") or "/var/cache/mxtui/mtas")
    return base / mta if mta else base


class Unpacked:
    """What every runner of an unpacked MTA says the same way: where it is (`mta_root(NAME)`),
    its program (`BINARY`, relative to that folder), whether it is there, and its version (the
    Debian version of `PACKAGE`, after `TITLE`)."""

    NAME: str
    TITLE: str
    BINARY: str
    PACKAGE: str

    def root(self) -> Path:
        return mta_root(self.NAME)

    def binary(self) -> Path:
        return self.root() / self.BINARY

    def missing(self) -> str | None:
        if not self.binary().exists():
            return (f"{self.TITLE} is not unpacked in {self.root()} "
                    "(mxtui conformance --fetch, or see .ci/run)")  # fmt: skip
        return None

    def version(self) -> str:
        return f"{self.TITLE} " + package_version(self.root(), self.PACKAGE)


def fetch(mta: str) -> Path:
    """Download `mta`'s packages and unpack them into `mta_root(mta)`; return that folder.

    Raises RuntimeError with apt's own words when a package cannot be had.
    """
    target = mta_root(mta)
    with tempfile.TemporaryDirectory(prefix="mxtui-debs-") as tmp:
        os.chmod(tmp, 0o755)  # apt's download user must be able to write there
        done = subprocess.run(
            ["apt-get", "download", "-q", *PACKAGES[mta]], cwd=tmp, capture_output=True,
            text=True, timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"apt-get download failed: {done.stderr.strip()[-500:]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{mta}-", dir=target.parent))
        for deb in sorted(Path(tmp).glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(staging)], check=True, timeout=300)
        os.chmod(staging, 0o755)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    for parent in (target.parent, target.parent.parent):
        parent.chmod(parent.stat().st_mode | 0o755)
    return target


def package_version(root: Path, package: str) -> str:
    """The Debian version of an unpacked package, from the first line of its changelog
    ("exim4 (4.96-15+deb12u11) bookworm-security; ..." gives "4.96-15+deb12u11")."""
    for name in ("changelog.Debian.gz", "changelog.gz"):
        path = root / "usr/share/doc" / package / name
        if path.exists():
            with gzip.open(path, "rt", errors="replace") as f:
                first = f.readline()
            if "(" in first and ")" in first:
                return first.split("(", 1)[1].split(")", 1)[0]
    return "unknown version"


def add_users(folder: Path, names: tuple[str, ...]) -> dict[str, int]:
    """Copies of /etc/passwd and /etc/group with `names` added (each its own group), bind-mounted
    over the real ones in this namespace; returns each name's id."""
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    used = {int(line.split(":")[2]) for line in passwd.splitlines() + group.splitlines()
            if line.count(":") >= 3 and line.split(":")[2].isdigit()}  # fmt: skip
    ids: dict[str, int] = {}
    next_id = FIRST_FREE_ID
    for name in names:
        existing = [ln for ln in passwd.splitlines() if ln.split(":")[0] == name]
        if existing:
            ids[name] = int(existing[0].split(":")[2])
            continue
        while next_id in used:
            next_id += 1
        used.add(next_id)
        ids[name] = next_id
        passwd += f"{name}:x:{next_id}:{next_id}::/nonexistent:/usr/sbin/nologin\n"
        if not any(ln.split(":")[0] == name for ln in group.splitlines()):
            group += f"{name}:x:{next_id}:\n"
    (folder / "passwd").write_text(passwd)
    (folder / "group").write_text(group)
    os.chmod(folder / "passwd", 0o644)
    os.chmod(folder / "group", 0o644)
    bind(folder / "passwd", "/etc/passwd")
    bind(folder / "group", "/etc/group")
    return ids


def loader_cache(folder: Path, libs: list[Path]) -> None:
    """A loader cache that also finds the unpacked libraries, bind-mounted over
    /etc/ld.so.cache in this namespace (setuid programs ignore LD_LIBRARY_PATH)."""
    conf = folder / "ld.so.conf"
    conf.write_text("include /etc/ld.so.conf.d/*.conf\n" + "".join(f"{p}\n" for p in libs))
    cache = folder / "ld.so.cache"
    subprocess.run(["ldconfig", "-C", str(cache), "-f", str(conf)], check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    os.chmod(cache, 0o644)
    bind(cache, "/etc/ld.so.cache")
