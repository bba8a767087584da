"""``tradevc-serve``: run the service (uvicorn) on the configuration file it is given."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
import socket
import ssl
import sys
from typing import Any, Generator, NoReturn

import click

from .app import close_state, create_app, open_state
from .wire import http_protocol
from .config import MAX_WORKERS, ConfigError, ServiceConfig, load_config
from .logs import configure as configure_logging
from .metrics import use_multiprocess_mode
from .routes import State
from .workers import STOP_SIGNALS, Dispatcher, Runtime, receive_connections, supervise

__all__ = ["TLS_CLOSE_WAIT", "main", "openapi_document"]

TLS_CLOSE_WAIT = 3.0
"""Seconds a closed TLS connection waits for the client's close_notify (after all was sent)."""
HANDSHAKE_WAIT_AT_STOP = 3.0
"""Seconds a stopping worker waits for the TLS handshakes of connections it was handed before
the stop (a client may never finish one); those done by then are served."""


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def openapi_document() -> str:
    """The OpenAPI document of the service, as kept in the repository (service/openapi.json)."""
    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _listen(config: ServiceConfig) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    # protocol TCP, not 0: asyncio turns Nagle's algorithm off only on such sockets; with it on, an
    # answer's body waited for the client's delayed ACK of its head (~40 ms a keep-alive request)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host, config.port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        _fail(f"cannot listen on {config.host}:{config.port}: {e.strerror}", 1)
    return sock


def _server(config: ServiceConfig, state: State, certfile: str | None, keyfile: str | None,
            parent: int | None, channel: socket.socket | None = None) -> Any:
    """A uvicorn server of the application; with ``parent``, a worker that stops when that
    process is gone, and unblocks the stop signals once uvicorn handles them; with ``channel``,
    one that serves the connections its supervisor hands it there (see
    :class:`~.workers.Dispatcher`) rather than a listening socket of its own."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            with super().capture_signals():
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # a worker starts with them blocked
                yield

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            loop = asyncio.get_running_loop()
            if self.config.ssl is not None:  # uvicorn passes no ssl_shutdown_timeout of its own
                setattr(loop, "create_server", functools.partial(loop.create_server,
                                                                 ssl_shutdown_timeout=TLS_CLOSE_WAIT))
            try:
                await super().startup([] if channel is not None else sockets)
            finally:
                if "create_server" in vars(loop):
                    delattr(loop, "create_server")
            if channel is not None and self.started:
                self._taking: set[asyncio.Task[Any]] = set()
                loop.add_reader(channel.fileno(), self._receive)

        def _receive(self) -> None:
            assert channel is not None
            if not receive_connections(channel, self._take):  # the supervisor is gone
                asyncio.get_running_loop().remove_reader(channel.fileno())

        def _take(self, connection: socket.socket) -> None:
            """Serve ``connection`` as uvicorn serves one it accepted (its protocol, TLS)."""
            loop = asyncio.get_running_loop()
            config = self.config

            def create_protocol() -> asyncio.Protocol:
                protocol: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
                    config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop)
                return protocol

            tls: dict[str, Any] = {"ssl": config.ssl, "ssl_shutdown_timeout": TLS_CLOSE_WAIT} if config.ssl else {}
            task = loop.create_task(loop.connect_accepted_socket(create_protocol, connection, **tls))
            self._taking.add(task)

            def done(task: asyncio.Task[Any]) -> None:
                self._taking.discard(task)
                if not task.cancelled() and task.exception() is not None:  # a TLS handshake that failed...
                    connection.close()

            task.add_done_callback(done)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            """uvicorn's, with idle connections let go at once: closing a TLS connection waits
            for the peer's close_notify (asyncio's default 30 s, :data:`TLS_CLOSE_WAIT` here),
            which an idle keep-alive client (this service's own verifier among them) never
            sends; a connection whose answer is still being written is left to finish."""
            async def let_go() -> None:
                while True:
                    for connection in list(self.server_state.connections):
                        transport = getattr(connection, "transport", None)
                        if transport is not None and transport.is_closing() and not transport.get_write_buffer_size():
                            transport.abort()
                    await asyncio.sleep(0.05)

            if channel is not None:  # no new connection from the supervisor: it stopped handing them out
                asyncio.get_running_loop().remove_reader(channel.fileno())
                taking: set[asyncio.Task[Any]] | None = getattr(self, "_taking", None)  # None: never started
                if taking is not None:
                    receive_connections(channel, self._take)  # those it handed over before are served:
                    if taking:  # their TLS handshakes, for a while (a client may never finish one)
                        await asyncio.wait(set(taking), timeout=HANDSHAKE_WAIT_AT_STOP)
                        for _ in range(4):  # a few turns of the loop read what their clients sent
                            await asyncio.sleep(0)  # already: a request begun is finished
                channel.close()
            letting_go = asyncio.create_task(let_go())
            try:
                await super().shutdown(sockets)
            finally:
                letting_go.cancel()

        async def on_tick(self, counter: int) -> bool:
            if parent is not None and os.getppid() != parent:  # the supervisor is gone: stop gracefully
                self.should_exit = True
            return bool(await super().on_tick(counter))

    return Server(uvicorn.Config(
        create_app(config, state), log_level="info", log_config=None, access_log=False, proxy_headers=False,
        server_header=False, ssl_certfile=certfile, ssl_keyfile=keyfile,
        http=http_protocol(),  # uvloop and httptools (the service extra) when installed
    ))


def _serve(config: ServiceConfig, state: State, workers: int, certfile: str | None, keyfile: str | None) -> None:
    sock = _listen(config)
    scheme = "https" if certfile else "http"
    port = sock.getsockname()[1]
    click.echo(f"listening on {scheme}://{config.host}:{port}", err=True)
    # uvicorn stops gracefully on SIGINT or SIGTERM and then raises the signal again for the
    # handler it found: a quiet one, so that a stop is exit status 0, not a signal death
    quiet = {signum: (lambda *_: None) for signum in STOP_SIGNALS}
    if workers == 1:
        for signum, handler in quiet.items():
            signal.signal(signum, handler)
        _server(config, state, certfile, keyfile, None).run(sockets=[sock])
        return
    parent = os.getpid()

    def run_worker(channel: socket.socket) -> int:
        for signum, handler in quiet.items():
            signal.signal(signum, handler)
        _server(config, state, certfile, keyfile, parent, channel).run(sockets=[])
        return 0

    supervise(workers, run_worker, Dispatcher(sock, workers))  # closes the socket


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tradevc", prog_name="tradevc-serve", message="%(prog)s (tradevc) %(version)s")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="The service's TOML configuration (see the README: listen, tokens, verifier, issuers, clients).")
@click.option("--openapi", is_flag=True, help="Print the OpenAPI document (JSON) and exit; needs no --config.")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS), metavar="N",
              help=f"Worker processes on the one listening socket (1 to {MAX_WORKERS}); overrides [listen] workers.")
def cli(config_path: str | None, openapi: bool, workers: int | None) -> None:
    """Serve the W3C VC API over the issuers and the verifier that --config names:
    POST /token (OAuth 2.0 client credentials), /credentials/verify, /presentations/verify,
    /challenges, /issuers/NAME/credentials/issue and .../status; the issuers' did.json and
    status lists; /healthz and /readyz; /metrics (Prometheus, scope metrics).

    \b
    Secrets (key passphrases, client secrets) come from files or environment variables the
    configuration names, never from it or the command line. The log is JSON, one line per
    request on stderr (never a token, secret or document), with the pid of the process.

    \b
    --workers N (or [listen] workers = N): N worker processes forked on one listening socket,
    sharing the token key, the one-time challenges, the rate limits, the metrics and the
    issuers' registries; a worker that ends is logged and replaced. Ctrl-C or SIGTERM stops
    it gracefully: the requests in flight are answered first; a second one stops at once.
    Exit status: 0 stopped, 1 cannot listen, 2 a bad configuration.
    """
    if openapi:
        click.echo(openapi_document(), nl=False)
        return
    if not config_path:
        _fail("give --config FILE (the service's TOML configuration)", 2)
    try:
        config = load_config(config_path)
    except ConfigError as e:
        _fail(f"{config_path}: {e.message}", 2)
    certfile = keyfile = None
    if config.tls_cert is not None and config.tls_key is not None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(config.tls_cert, config.tls_key)
        except (OSError, ssl.SSLError) as e:
            _fail(f"{config_path}: listen.tls_cert/tls_key cannot be used: {e}", 2)
        certfile, keyfile = str(config.tls_cert), str(config.tls_key)
    configure_logging()  # JSON lines on stderr, uvicorn's messages too (it configures no logging of its own)
    count = workers if workers is not None else config.workers
    runtime = Runtime.create() if count > 1 else None  # what the workers share (see .workers)
    try:
        if runtime is not None:
            use_multiprocess_mode(runtime.metrics)  # before the first metric is made (in the workers)
            logging.getLogger("tradevc.service").info("%d workers, sharing the private folder %s", count,
                                                      runtime.folder)
        try:
            state = open_state(config, runtime)
        except ConfigError as e:
            _fail(f"{config_path}: {e.message}", 2)
        try:
            _serve(config, state, count, certfile, keyfile)
        finally:
            close_state(state)
    finally:
        if runtime is not None:
            runtime.remove()
    click.echo("stopped", err=True)


def main() -> None:
    cli(prog_name="tradevc-serve")


if __name__ == "__main__":
    main()
