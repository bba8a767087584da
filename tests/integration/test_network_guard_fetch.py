"""did:web and status lists are not an SSRF tool (issue 15, points 5 and 6): the fetcher
refuses hosts that are not public, resolves each host once and connects to the address it
checked, bounds the whole fetch with one deadline, and takes DID documents in DID media
types only. Name resolution is controlled in-process (``socket.getaddrinfo`` is replaced
for the test names): no connection is ever tried to an address that is not loopback."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from conftest import load_vector
from support.dids import did_document
from support.https_server import body, trickle
from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.vc.retrieval import netguard
from tradevc.vc.retrieval.did.web import DidWebResolver
from tradevc.vc.retrieval.http import HttpsFetcher, RetrievalError
from tradevc.vc.retrieval.netguard import AllowList
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.cli import cli as verify_cli
from tradevc.wallet.cli import cli as wallet_cli

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
KEY = KeyPair.generate("Ed25519")


class Dns:
    """``socket.getaddrinfo`` for test names: ``answers[host]`` is a list of address lists,
    one per lookup (the last one repeats); every lookup is recorded. Other names go to the
    real resolver (``localhost`` only, in these tests)."""

    def __init__(self, monkeypatch, answers):
        self.answers = answers
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
            if host not in self.answers:
                return real(host, port, family, type, proto, flags)
            self.lookups.append(host)
            rounds = self.answers[host]
            addresses = rounds[min(len(self.lookups) - 1, len(rounds) - 1)]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port))
                for a in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def connections(monkeypatch):
    """Every address a socket connects to, from now on."""
    made: list[object] = []
    guarded = socket.socket.connect

    def connect(self, address):
        made.append(address)
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return made


REFUSED = {
    "127.0.0.1": "loopback",
    "10.0.0.1": "RFC 1918",
    "172.16.5.4": "RFC 1918",
    "192.168.1.1": "RFC 1918",
    "169.254.169.254": "cloud metadata",
    "100.64.0.1": "carrier-grade NAT",
    "198.18.0.1": "benchmarking",
    "0.0.0.0": "this network",
    "224.0.0.1": "multicast",
    "255.255.255.255": "broadcast",
    "::1": "IPv6 loopback",
    "fd00::1": "unique local",
    "fe80::1": "link-local",
    "::ffff:127.0.0.1": "IPv4-mapped",
    "::ffff:169.254.169.254": "IPv4-mapped",
    "::ffff:0:7f00:1": "IPv4-translated",  # SIIT (RFC 6052 / 2765), which ipaddress calls global
    "ff02::1": "multicast",
}


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_a_host_resolving_to_a_non_public_address_is_refused_before_connecting(monkeypatch, connections, address):
    dns = Dns(monkeypatch, {"target.tradevc.test": [[address]]})
    with pytest.raises(RetrievalError) as info:
        HttpsFetcher().fetch("https://target.tradevc.test/status/1", what="status list", accept="application/json")
    assert f"resolves to {address}" in info.value.message and REFUSED[address] in info.value.message
    assert "--allow-host" in info.value.message  # says how to allow it
    assert dns.lookups == ["target.tradevc.test"] and connections == []


def test_a_host_resolving_to_a_mix_is_refused(monkeypatch, connections):
    Dns(monkeypatch, {"mixed.tradevc.test": [["93.184.216.34", "10.0.0.1"]]})
    with pytest.raises(RetrievalError, match=r"resolves to 10\.0\.0\.1 \(among public ones\)"):
        DidWebResolver().resolve("did:web:mixed.tradevc.test")
    assert connections == []


@pytest.mark.parametrize("host", [
    "localhost", "LOCALHOST.", "api.localhost", "0x7f000001", "2130706433", "127.1", "0177.0.0.1", "0x7f.1",
    "intranet", "metadata.google.internal", "printer.local",
])
def test_names_that_are_not_public_are_refused_without_a_lookup(monkeypatch, connections, host):
    dns = Dns(monkeypatch, {})
    looked_up = []
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda h, *a, **k: looked_up.append(h) or real(h, *a, **k))
    with pytest.raises(RetrievalError, match="not fetched: .*allow it explicitly"):
        HttpsFetcher().fetch(f"https://{host}/status/1", what="status list", accept="application/json")
    assert looked_up == [] and connections == [] and dns.lookups == []


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/status/1", "https://[::1]:8443/status/1", "https://[::ffff:127.0.0.1]/status/1",
    "https://169.254.169.254/latest/meta-data/", "https://10.1.2.3/status/1", "https://[fd00::1]/status/1",
])
def test_a_status_list_url_with_a_non_public_ip_is_could_not_verify(connections, url):
    credential = load_vector("di-eddsa/unsigned.json") | {"issuer": KEY.did, "credentialStatus": {
        "id": f"{url}#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "5", "statusListCredential": url}}
    signed = sign_credential(credential, KEY, created="2026-01-01T00:00:00Z")
    result = Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"]})).verify_credential(signed, now=NOW)
    check = result.check("revocation")
    assert result.could_not_verify and check.code == "STATUS_RETRIEVAL_ERROR", result.summary()
    assert "is not a public address" in check.message and "allow" in check.message
    assert connections == []


def test_the_allow_list_lets_the_local_server_through(https_server):
    (https_server.root / "status").mkdir()
    (https_server.root / "status" / "1").write_text('{"listed": true}')
    url = https_server.url("status/1")
    with pytest.raises(RetrievalError, match="localhost is a local name"):
        HttpsFetcher(https_server.session()).get_json(url, what="status list")
    with pytest.raises(RetrievalError, match="local name"):  # another port is another entry
        HttpsFetcher(https_server.session(), allow_hosts=["localhost:1"]).get_json(url, what="status list")
    assert https_server.requested == []
    for allow in (https_server.allow_hosts, ["localhost"], ["LocalHost."], AllowList([https_server.host])):
        assert HttpsFetcher(https_server.session(), allow_hosts=allow).get_json(url, what="status list") == {"listed": True}


def test_a_mirror_host_is_allowed_for_the_mirror_only(https_server):
    did = f"did:web:{https_server.did_host}"
    (https_server.site("mill.example") / ".well-known").mkdir(parents=True)
    (https_server.site("mill.example") / ".well-known" / "did.json").write_text(
        json.dumps(did_document("did:web:mill.example", KeyPair.generate("Ed25519"))))
    web = DidWebResolver(HttpsFetcher(https_server.session(), mirror=https_server.mirror("mill.example")))
    assert web.resolve("did:web:mill.example")["id"] == "did:web:mill.example"
    with pytest.raises(RetrievalError, match="local name"):  # the same host, named by a DID
        web.resolve(did)
    assert https_server.requested == ["/mill.example/.well-known/did.json"]


def test_allow_list_entries_are_checked():
    for bad in (["a b"], ["host:0"], ["host:99999"], ["https://host/"], ["[::1"], [7]):
        with pytest.raises(ValueError, match="HOST or HOST:PORT"):
            AllowList(bad)
    with pytest.raises(ValueError, match="not one string"):
        AllowList("localhost")
    assert list(AllowList(["LocalHost.:8443", "[::1]", "127.0.0.1"])) == ["127.0.0.1", "[::1]", "localhost:8443"]


def test_one_lookup_per_connection_and_the_checked_address_is_used(monkeypatch, https_server, connections):
    """DNS rebinding: the first answer is the one checked and connected to; a second lookup
    would get the metadata address (and the test guard would refuse connecting there).
    127.0.0.1 stands in for a public address here, the only change to the rules."""
    (https_server.root / "status").mkdir()
    (https_server.root / "status" / "1").write_text('{"listed": true}')
    dns = Dns(monkeypatch, {"rebind.tradevc.test": [["127.0.0.1"], ["169.254.169.254"]]})
    real = netguard.refusal
    monkeypatch.setattr(netguard, "refusal", lambda a: None if a == "127.0.0.1" else real(a))
    fetcher = HttpsFetcher(https_server.session())
    url = f"https://rebind.tradevc.test:{https_server.port}/status/1"
    # TLS checks the certificate against the name (*.tradevc.test), not the address
    assert fetcher.get_json(url, what="status list") == {"listed": True}
    assert dns.lookups == ["rebind.tradevc.test"]
    assert connections == [("127.0.0.1", https_server.port)]
    # the next connection looks up again, and is refused for what it finds
    with pytest.raises(RetrievalError, match="resolves to 169.254.169.254"):
        HttpsFetcher(https_server.session()).get_json(url, what="status list")
    assert connections == [("127.0.0.1", https_server.port)]


def test_an_allowed_name_is_still_connected_to_at_the_address_looked_up(monkeypatch, https_server, connections):
    (https_server.root / "status").mkdir()
    (https_server.root / "status" / "1").write_text('{"listed": true}')
    dns = Dns(monkeypatch, {"mirror.tradevc.test": [["127.0.0.1"], ["10.0.0.1"]]})
    fetcher = HttpsFetcher(https_server.session(), allow_hosts=["mirror.tradevc.test"])
    url = f"https://mirror.tradevc.test:{https_server.port}/status/1"
    assert fetcher.get_json(url, what="status list") == {"listed": True}
    assert dns.lookups == ["mirror.tradevc.test"] and connections == [("127.0.0.1", https_server.port)]
    # the certificate is checked against the name, not the address connected to (which it also names)
    Dns(monkeypatch, {"elsewhere.example": [["127.0.0.1"]]})
    fetcher = HttpsFetcher(https_server.session(), allow_hosts=["elsewhere.example"])
    with pytest.raises(RetrievalError, match="TLS certificate check failed"):
        fetcher.get_json(f"https://elsewhere.example:{https_server.port}/status/1", what="status list")


def test_a_proxy_from_the_environment_is_not_used(monkeypatch, https_server):
    """Through a proxy the name would be resolved where it cannot be checked."""
    (https_server.root / "status").mkdir()
    (https_server.root / "status" / "1").write_text('{"listed": true}')
    monkeypatch.setenv("HTTPS_PROXY", "http://10.9.9.9:3128")  # never reachable from a test
    import requests

    session = requests.Session()  # trust_env on
    session.verify = str(https_server.ca_path)
    session.proxies = {"https": "http://10.9.9.9:3128"}
    fetcher = HttpsFetcher(session, allow_hosts=https_server.allow_hosts)
    assert fetcher.get_json(https_server.url("status/1"), what="status list") == {"listed": True}


# -- one deadline for the whole fetch ---------------------------------------------------------------


def test_a_server_that_trickles_its_headers_fails_within_the_deadline(https_server):
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"  # ~22 s
    https_server.special["/status/trickle"] = trickle(answer, 0.3)
    fetcher = HttpsFetcher(https_server.session(), timeout=1.0, allow_hosts=https_server.allow_hosts)
    started = time.monotonic()
    with pytest.raises(RetrievalError, match=r"did not answer within 1\.0 s"):
        fetcher.get_json(https_server.url("status/trickle"), what="status list")
    assert 0.9 < time.monotonic() - started < 2.0


def test_a_slow_name_lookup_counts_against_the_deadline(monkeypatch):
    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        if host == "slow.tradevc.test":
            time.sleep(3)
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    with pytest.raises(RetrievalError, match=r"did not answer within 0\.5 s"):
        HttpsFetcher(timeout=0.5).get_json("https://slow.tradevc.test/x", what="status list")
    assert time.monotonic() - started < 1.5


def test_a_slow_lookup_and_a_silent_server_share_one_deadline(monkeypatch):
    """The lookup's time is taken from the connection's: a name that takes 0.7 s to resolve,
    to a loopback server that accepts the connection but never answers the TLS handshake,
    fails within the 1 s deadline (it took lookup + a whole timeout, 1.7 s, before)."""
    import socket as sockets
    import threading

    listener = sockets.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        if host == "silent.tradevc.test":
            time.sleep(0.7)
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    fetcher = HttpsFetcher(timeout=1.0, allow_hosts=["silent.tradevc.test"])
    started = time.monotonic()
    try:
        with pytest.raises(RetrievalError, match=r"within 1\.0 s|timed out|took longer"):
            fetcher.get_json(f"https://silent.tradevc.test:{port}/x", what="DID document")
        assert time.monotonic() - started < 1.5
        assert accepted, "the connection was made: the time ran out in the TLS handshake"
    finally:
        listener.close()


# -- DID documents in DID media types only ----------------------------------------------------------


def test_a_did_document_served_as_html_is_refused(https_server):
    did = f"did:web:{https_server.did_host}"
    document = json.dumps(did_document(did, KeyPair.generate("Ed25519"))).encode()
    web = DidWebResolver(HttpsFetcher(https_server.session(), allow_hosts=https_server.allow_hosts))
    for refused in ("text/html", "text/plain; charset=utf-8", "application/octet-stream", ""):
        https_server.special["/.well-known/did.json"] = body(document, content_type=refused)
        with pytest.raises(RetrievalError, match="served (as|with no Content-Type)") as info:
            web.resolve(did)
        assert "application/did+json" in info.value.message
    for taken in ("application/did+json", "application/did+ld+json", "application/json; charset=utf-8",
                  "Application/LD+JSON"):
        https_server.special["/.well-known/did.json"] = body(document, content_type=taken)
        assert web.resolve(did)["id"] == did


# -- the command line -------------------------------------------------------------------------------


def test_vc_verify_allow_host(tmp_path):
    credential = load_vector("di-eddsa/unsigned.json") | {"issuer": KEY.did}
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(sign_credential(credential, KEY, created="2026-01-01T00:00:00Z")))
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {KEY.did: ["AlumniCredential"]}}))
    base = ["credential", str(path), "--trust", str(trust)]
    for bad in ("a b", "host:0", "https://host/"):
        r = CliRunner().invoke(verify_cli, [*base, "--allow-host", bad])
        assert r.exit_code == 2 and "--allow-host" in r.output and "HOST or HOST:PORT" in r.output, r.output
        assert isinstance(r.exception, SystemExit)  # a usage error, not a traceback
    r = CliRunner().invoke(verify_cli, [*base, "--allow-host", "localhost:8443", "--allow-host", "10.0.0.5"])
    assert r.exit_code == 0, r.output
    assert "--allow-host HOST[:PORT]" in CliRunner().invoke(verify_cli, ["credential", "--help"]).output
    for command in (["add"], ["check"]):
        assert "--allow-host HOST[:PORT]" in CliRunner().invoke(wallet_cli, [*command, "--help"]).output
