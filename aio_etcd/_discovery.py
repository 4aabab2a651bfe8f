"""Finding a cluster's members through DNS SRV records (RFC 2782), as etcdctl does."""

from __future__ import annotations

import random
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.rdtypes.IN.SRV

from ._exceptions import EtcdDiscoveryFailed

LEGACY_SERVICE = "_etcd._tcp"


def services(protocol: str) -> list[str]:
    """The SRV names to look up, in order; the first that has records wins."""
    found = ["_etcd-client._tcp", LEGACY_SERVICE]
    return ["_etcd-client-ssl._tcp", *found] if protocol == "https" else found


async def discover(
    domain: str, protocol: str, resolver: dns.asyncresolver.Resolver | None = None
) -> list[str]:
    """The client URLs the SRV records of ``domain`` name, by priority, then weight."""
    resolver = resolver if resolver is not None else dns.asyncresolver.Resolver()
    tried = []
    for service in services(protocol):
        name = f"{service}.{domain.rstrip('.')}"
        try:
            answer = await resolver.resolve(name, "SRV")
        except dns.exception.DNSException as exc:
            tried.append(f"{name}: {type(exc).__name__}")
            continue
        records = [r for r in answer if isinstance(r, dns.rdtypes.IN.SRV.SRV)]
        if records:
            return [f"{protocol}://{_host(r)}:{r.port}" for r in _ordered(records)]
        tried.append(f"{name}: no SRV records")
    raise EtcdDiscoveryFailed(
        f"no etcd endpoint found through DNS SRV for {domain!r} (tried {'; '.join(tried)})"
    )


def _host(record: dns.rdtypes.IN.SRV.SRV) -> str:
    host = record.target.to_text(omit_final_dot=True)
    return f"[{host}]" if ":" in host else host


def _ordered(records: Sequence[dns.rdtypes.IN.SRV.SRV]) -> list[dns.rdtypes.IN.SRV.SRV]:
    """Lowest priority first; within a priority, a random order in which each record's
    chance to come next is proportional to its weight."""
    ordered = []
    for priority in sorted({r.priority for r in records}):
        group = [r for r in records if r.priority == priority]
        while group:
            total = sum(r.weight for r in group)
            if total == 0:
                chosen = random.choice(group)
            else:
                point = random.uniform(0, total)
                for chosen in group:
                    point -= chosen.weight
                    if point <= 0:
                        break
            group.remove(chosen)
            ordered.append(chosen)
    return ordered
