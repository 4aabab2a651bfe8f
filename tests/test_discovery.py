"""SRV discovery against a small DNS server on 127.0.0.1, answering from a dict of records."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import cast

import dns.asyncresolver
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

import aio_etcd as etcd
from aio_etcd._discovery import discover
from aio_etcd._server import LOOPBACK, LocalEtcd, free_port

DOMAIN = "etcd.test"


class Zone(asyncio.DatagramProtocol):
    """Answers SRV questions from ``records``: name -> ["priority weight port target"]."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.asked: list[str] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True)
        self.asked.append(name)
        answers = self.records.get(name, [])
        if question.rdtype == dns.rdatatype.SRV and answers:
            response.answer.append(
                dns.rrset.from_text_list(question.name, 60, "IN", "SRV", answers)
            )
        elif not answers:
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.flags |= dns.flags.AA
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


@pytest.fixture
async def zone() -> AsyncIterator[tuple[Zone, dns.asyncresolver.Resolver]]:
    loop = asyncio.get_running_loop()
    port = free_port()
    transport, protocol = await loop.create_datagram_endpoint(Zone, local_addr=(LOOPBACK, port))
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [LOOPBACK]
    resolver.port = port
    resolver.lifetime = 2.0
    try:
        yield protocol, resolver
    finally:
        transport.close()


async def test_the_client_finds_etcd_through_srv(
    zone: tuple[Zone, dns.asyncresolver.Resolver], etcd_server: LocalEtcd
) -> None:
    records, resolver = zone
    dead = free_port()
    records.records[f"_etcd-client._tcp.{DOMAIN}"] = [
        f"20 10 {dead} {LOOPBACK}.",  # tried last: a higher priority number
        f"10 10 {etcd_server.port} {LOOPBACK}.",
    ]
    async with etcd.Client(srv_domain=DOMAIN, srv_resolver=resolver) as client:
        assert client.base_uri == ""  # nothing is looked up before the first call
        assert records.asked == []
        await client.write("/t/srv", "found")
        assert (await client.read("/t/srv")).value == "found"
        assert client.endpoints == [
            f"http://{LOOPBACK}:{etcd_server.port}",
            f"http://{LOOPBACK}:{dead}",
        ]
        assert client.allow_reconnect is True
    assert records.asked == [f"_etcd-client._tcp.{DOMAIN}"]


async def test_the_legacy_record_is_the_last_resort(
    zone: tuple[Zone, dns.asyncresolver.Resolver], etcd_server: LocalEtcd
) -> None:
    records, resolver = zone
    records.records[f"_etcd._tcp.{DOMAIN}"] = [f"0 0 {etcd_server.port} {LOOPBACK}."]
    assert await discover(DOMAIN, "http", resolver) == [f"http://{LOOPBACK}:{etcd_server.port}"]
    assert records.asked == [f"_etcd-client._tcp.{DOMAIN}", f"_etcd._tcp.{DOMAIN}"]


async def test_https_asks_for_the_tls_record_first(
    zone: tuple[Zone, dns.asyncresolver.Resolver],
) -> None:
    records, resolver = zone
    records.records[f"_etcd-client-ssl._tcp.{DOMAIN}"] = ["0 0 2379 etcd-a.example."]
    records.records[f"_etcd-client._tcp.{DOMAIN}"] = ["0 0 2380 etcd-b.example."]
    assert await discover(DOMAIN, "https", resolver) == ["https://etcd-a.example:2379"]
    assert records.asked == [f"_etcd-client-ssl._tcp.{DOMAIN}"]


async def test_weights_share_out_the_first_place(
    zone: tuple[Zone, dns.asyncresolver.Resolver],
) -> None:
    records, resolver = zone
    records.records[f"_etcd-client._tcp.{DOMAIN}"] = [
        "0 90 1 heavy.example.",
        "0 10 2 light.example.",
        "5 0 3 backup.example.",
    ]
    firsts = []
    for _ in range(200):
        found = await discover(DOMAIN, "http", resolver)
        assert found[2] == "http://backup.example:3"
        firsts.append(found[0])
    heavy = firsts.count("http://heavy.example:1")
    assert 140 <= heavy <= 199, heavy  # about 90 %, and light is first sometimes too


async def test_no_records_is_an_error_naming_what_was_tried(
    zone: tuple[Zone, dns.asyncresolver.Resolver],
) -> None:
    _, resolver = zone
    async with etcd.Client(srv_domain=DOMAIN, srv_resolver=resolver) as client:
        with pytest.raises(etcd.EtcdDiscoveryFailed) as caught:
            await client.read("/")
    message = str(caught.value)
    assert DOMAIN in message
    assert f"_etcd-client._tcp.{DOMAIN}" in message and f"_etcd._tcp.{DOMAIN}" in message
    assert "NXDOMAIN" in message


@pytest.mark.parametrize("domain", ["", ".", "http://etcd.test", "a b"])
def test_a_bad_domain_is_refused_at_once(domain: str) -> None:
    with pytest.raises(etcd.EtcdValueError, match="srv_domain"):
        etcd.Client(srv_domain=domain)
