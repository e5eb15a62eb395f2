"""Hosts of a cluster on one machine, built by the tests themselves.

Each host is a network namespace joined by a veth link to a bridge the tests create; the
bridge holds the driver's address (this process stays in the machine's own namespaces), each
host's end of its link holds the host's. Nothing is routed anywhere else: a host has its
loopback and its link, and the driver reaches the hosts through the bridge only.

A Dask process of a host runs in a mount namespace of its own too (:func:`start_isolated`):
fresh tmpfs over /tmp and over every folder of the driver it must not see (the checkout, the
driver's data and files), its own HOME, and only the environment it is given.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NETWORK_PREFIX = "10.80"  # 10.80.N.0/24, N free on this machine


def ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def missing_capability() -> str | None:
    """Why hosts cannot be built here (root, `ip netns`, bridges, mount namespaces), or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth links, a bridge, mounts)"
    for tool in ("ip", "unshare", "mount", "runuser"):
        if shutil.which(tool) is None:
            return f"needs the `{tool}` command"
    probe = f"wbprobe{os.getpid()}"
    try:
        ip("netns", "add", probe)
    except RuntimeError as exc:
        return f"needs `ip netns` (network namespaces): {exc}"
    try:
        ip("link", "add", probe[:15], "type", "bridge")
        ip("link", "del", probe[:15])
        mounted = subprocess.run(
            ["ip", "netns", "exec", probe, "unshare", "--mount", "--propagation", "private",
             "mount", "-t", "tmpfs", "tmpfs", "/tmp"],
            capture_output=True, text=True,
        )  # fmt: skip
        if mounted.returncode != 0:
            return f"needs mount namespaces (unshare --mount): {mounted.stderr.strip()}"
    except RuntimeError as exc:
        return f"needs bridges and veth links (`ip link add ... type bridge`): {exc}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


@dataclass
class Host:
    """One host: a network namespace, its address, and its link to the bridge."""

    name: str
    netns: str
    address: str
    link: str  # the bridge's end of the host's veth (in the machine's namespace)

    @property
    def prefix(self) -> list[str]:
        """Runs a command on this host."""
        return ["ip", "netns", "exec", self.netns]

    def pids(self) -> list[int]:
        done = subprocess.run(["ip", "netns", "pids", self.netns], capture_output=True, text=True)
        return sorted(int(p) for p in done.stdout.split())

    def kill_all(self) -> list[int]:
        """SIGKILL every process of the host (all its namespace holds); the pids killed."""
        killed = self.pids()
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        return killed

    def set_link(self, up: bool) -> None:
        ip("link", "set", self.link, "up" if up else "down")


@dataclass
class Network:
    """A bridge (holding the driver's address) and hosts linked to it, named after ``tag``."""

    tag: str
    subnet: str = ""  # "10.80.N"
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return f"wb{self.tag}br"[:15]

    @property
    def driver_address(self) -> str:
        return f"{self.subnet}.1"

    @property
    def cidr(self) -> str:
        return f"{self.subnet}.0/24"

    def create(self) -> Network:
        self.subnet = _free_subnet(int(self.tag))
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.driver_address}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        return self

    def add_host(self, name: str) -> Host:
        n = len(self.hosts) + 1
        host = Host(name, f"wb{self.tag}-{name}", f"{self.subnet}.{n + 1}", f"wb{self.tag}h{n}")
        inside = f"wb{self.tag}n{n}"
        assert len(host.link) <= 15 and len(inside) <= 15
        ip("netns", "add", host.netns)
        self.hosts[name] = host
        ip("link", "add", host.link, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", host.netns)
        ip("link", "set", host.link, "master", self.bridge)
        ip("link", "set", host.link, "up")
        ip("-n", host.netns, "addr", "add", f"{host.address}/24", "dev", inside)
        ip("-n", host.netns, "link", "set", inside, "up")
        ip("-n", host.netns, "link", "set", "lo", "up")
        return host

    def close(self) -> None:
        """Kill what runs on the hosts, delete their namespaces, links and the bridge."""
        for host in self.hosts.values():
            host.kill_all()
            subprocess.run(["ip", "netns", "del", host.netns], capture_output=True)
            subprocess.run(["ip", "link", "del", host.link], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def _free_subnet(seed: int) -> str:
    used = ip("-4", "-o", "addr", "show")
    for step in range(250):
        n = (seed + step) % 250 + 1
        if f" {NETWORK_PREFIX}.{n}." not in used:
            return f"{NETWORK_PREFIX}.{n}"
    raise RuntimeError(f"no free {NETWORK_PREFIX}.N.0/24 network on this machine")


# --- processes in a mount namespace of their own ---------------------------------------------

_ISOLATE = """
while [ "$1" != -- ]; do
  if [ -d "$1" ]; then mount -t tmpfs -o mode=0755 tmpfs "$1" || exit 97; fi
  shift
done
shift
mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 97
mkdir -p /tmp/home && cd /tmp/home || exit 97
exec "$@"
"""


def start_isolated(
    host: Host,
    argv: Sequence[str],
    env: Mapping[str, str],
    hide: Sequence[Path],
    log: Path,
) -> subprocess.Popen:
    """Run ``argv`` on ``host`` in its own mount namespace: tmpfs over each folder of ``hide``
    and over /tmp, in HOME=/tmp/home, with no environment but ``env``."""
    variables = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **env}
    variables["HOME"] = "/tmp/home"
    command = ["env", "-i", *(f"{k}={v}" for k, v in variables.items()), *argv]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*host.prefix, "unshare", "--mount", "--propagation", "private",
             "sh", "-c", _ISOLATE, "isolate", *map(str, hide), "--", *command],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd="/",
        )  # fmt: skip


# --- certificates ------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_certificates(folder: Path, addresses: Mapping[str, str]) -> Path:
    """A CA (``folder/ca.pem``) and for each host name ``folder/NAME.pem`` and ``NAME.key``,
    naming its address (SubjectAltName IP), good to serve and to connect with; the CA's path."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("workbench cluster test CA"))
        .issuer_name(_name("workbench cluster test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for name, address in addresses.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(address))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return folder / "ca.pem"
