"""What a fetch that fails says (issue 18, point 13): what happened and what to try, never the
type of a Python exception. Real sockets on 127.0.0.1 for a refused connection, an untrusted or
misnamed TLS certificate and a server that never answers; a name that does not resolve comes
from ``socket.getaddrinfo`` answering as a resolver does for a ``.invalid`` name (RFC 6761), so
that no lookup leaves the machine. The codes stay as they were: only the words changed."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from tradevc.vc.retrieval.http import HttpsFetcher, RetrievalError

PYTHON_WORDS = ("ConnectionError", "SSLError", "MaxRetryError", "NewConnectionError", "NameResolutionError",
                "Traceback", "urllib3", "HTTPSConnection", "object at 0x")


def failure(fetcher: HttpsFetcher, url: str) -> RetrievalError:
    with pytest.raises(RetrievalError) as info:
        fetcher.get_json(url, what="status list")
    error = info.value
    assert error.code == "RETRIEVAL_ERROR"
    for word in PYTHON_WORDS:
        assert word not in error.message, (word, error.message)
    return error


def test_a_refused_connection_says_which_host_and_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    error = failure(HttpsFetcher(allow_hosts=[f"127.0.0.1:{port}"]), f"https://127.0.0.1:{port}/status/1")
    assert error.message == (f"status list: cannot fetch https://127.0.0.1:{port}/status/1: 127.0.0.1:{port} "
                             "refused the connection; is the site up?")


def test_a_name_that_does_not_resolve_says_to_check_it(monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host.endswith(".invalid"):  # what a resolver answers (RFC 6761), without asking one
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    fetcher = HttpsFetcher(allow_hosts=["mill.invalid"])
    error = failure(fetcher, "https://mill.invalid/.well-known/did.json")
    assert error.message == ("status list: cannot fetch https://mill.invalid/.well-known/did.json: cannot resolve "
                             "mill.invalid; check the DID or URL, or your DNS")


def test_a_certificate_from_a_private_ca_says_to_give_the_ca(https_server):
    (https_server.root / "status").mkdir()
    (https_server.root / "status" / "1").write_text("{}")
    session = requests.Session()
    session.trust_env = False  # the system's CAs, which do not know the server's throwaway CA
    error = failure(HttpsFetcher(session, allow_hosts=https_server.allow_hosts), https_server.url("status/1"))
    assert error.message.startswith(f"status list: TLS certificate check failed for {https_server.url('status/1')}: "
                                    "the certificate of localhost is not trusted; if it is signed by a private CA, "
                                    "give that CA's certificate (--ca-bundle FILE"), error.message
    # trusted, it is fetched: the message was about the CA, not the server
    assert HttpsFetcher(https_server.session(), allow_hosts=https_server.allow_hosts).get_json(
        https_server.url("status/1"), what="status list") == {}


def test_a_certificate_for_another_name_says_so(monkeypatch, https_server):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        return real("127.0.0.1" if host == "elsewhere.invalid" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    fetcher = HttpsFetcher(https_server.session(), allow_hosts=["elsewhere.invalid"])
    url = f"https://elsewhere.invalid:{https_server.port}/status/1"
    error = failure(fetcher, url)
    assert error.message == (f"status list: TLS certificate check failed for {url}: the certificate elsewhere.invalid "
                             "presented is for another name; check the DID or URL")


def test_a_server_that_never_answers_says_how_long_it_was_waited_for():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(server.accept()[0]), daemon=True).start()
    port = server.getsockname()[1]
    try:
        error = failure(HttpsFetcher(timeout=0.5, allow_hosts=[f"127.0.0.1:{port}"]),
                        f"https://127.0.0.1:{port}/status/1")
    finally:
        server.close()
        for connection in held:
            connection.close()
    assert error.message == f"status list: https://127.0.0.1:{port}/status/1 did not answer within 0.5 s"


def test_a_host_that_is_not_public_says_how_to_allow_it():
    error = failure(HttpsFetcher(), "https://127.0.0.1:8443/status/1")
    assert "--allow-host HOST[:PORT]" in error.message, error.message
