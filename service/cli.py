"""``tradevc-serve``: run the service (uvicorn) on the configuration file it is given."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import sys
from typing import NoReturn

import click

from .app import close_state, create_app, open_state
from .config import ConfigError, ServiceConfig, load_config
from .logs import configure as configure_logging

__all__ = ["main", "openapi_document"]


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


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tradevc", prog_name="tradevc-serve", message="%(prog)s (tradevc) %(version)s")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="The service's TOML configuration (see the README: listen, tokens, verifier, issuers, clients).")
@click.option("--openapi", is_flag=True, help="Print the OpenAPI document (JSON) and exit; needs no --config.")
def cli(config_path: str | None, openapi: bool) -> None:
    """Serve the W3C VC API over the issuers and the verifier that --config names:
    POST /token (OAuth 2.0 client credentials), /credentials/verify, /presentations/verify,
    /challenges, /issuers/NAME/credentials/issue and .../status; the issuers' did.json and
    status lists; /healthz and /readyz; /metrics (Prometheus, scope metrics).

    \b
    Secrets (key passphrases, client secrets) come from files or environment variables the
    configuration names, never from it or the command line. The log is JSON, one line per
    request on stderr (never a token, secret or document). Ctrl-C or SIGTERM stops it.
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
    try:
        state = open_state(config)
    except ConfigError as e:
        _fail(f"{config_path}: {e.message}", 2)
    try:
        import uvicorn

        sock = _listen(config)
        scheme = "https" if certfile else "http"
        port = sock.getsockname()[1]
        click.echo(f"listening on {scheme}://{config.host}:{port}", err=True)
        server = uvicorn.Server(uvicorn.Config(
            create_app(config, state), log_level="info", log_config=None, access_log=False, proxy_headers=False,
            server_header=False,
            ssl_certfile=certfile, ssl_keyfile=keyfile,
        ))
        # uvicorn stops gracefully on SIGINT or SIGTERM and then raises the signal again for
        # the handler it found: a quiet one, so that a stop is exit status 0, not a signal death
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: None)
        server.run(sockets=[sock])
    finally:
        close_state(state)
    click.echo("stopped", err=True)


def main() -> None:
    cli(prog_name="tradevc-serve")


if __name__ == "__main__":
    main()
