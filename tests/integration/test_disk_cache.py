"""The verifier's cache on disk (issue 18, point 7): status lists and did:web DID documents
kept between runs as the exact bytes fetched, verified again when read back, so that
``--stale-status-if-error`` works from the command line, where each run is a new process.

The issuer's site is served by its own real HTTPS server on 127.0.0.1, which the tests stop to
make the issuer unreachable (connection refused)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.https_server import body, start
from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import load_example
from tradevc.vc.retrieval.disk_cache import DID_DOCUMENT, STATUS_LIST, DiskCache
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.cli import cli

REPO = Path(__file__).parents[2]
PASS = b"issuer passphrase"
VALID_FROM = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)


class Site:
    """An issuer (did:web on its own local HTTPS server, with its status lists there) and a
    certificate it issued, in a file, with a trust policy file for it."""

    def __init__(self, tmp_path: Path, name: str = "mill") -> None:
        (tmp_path / f"{name}-server").mkdir()
        self.server, self._stop = start(tmp_path / f"{name}-server")
        self.running = True
        self.issuer = Issuer.init(tmp_path / f"{name}-home", PASS, name="Aceros del Norte",
                                  did_web_domain=self.server.host, status_base_url=self.server.url("status/"))
        self.credential = self.issuer.issue(
            load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
            valid_from=VALID_FROM.strftime("%Y-%m-%dT%H:%M:%SZ"),
            valid_until=(VALID_FROM + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.issuer.publish(self.server.root)
        self.file = tmp_path / f"{name}-coo.json"
        self.file.write_text(json.dumps(self.credential))
        self.trust = tmp_path / f"{name}-trust.json"
        self.trust.write_text(json.dumps({"trustedIssuers": [
            {"did": self.issuer.did, "name": "Mill", "types": ["USMCACertificationOfOrigin"]}]}))
        status = self.credential["credentialStatus"]
        self.list_urls = sorted({e["statusListCredential"] for e in (status if isinstance(status, list) else [status])})
        self.list_url = self.list_urls[0]
        self.did_url = self.server.url(".well-known/did.json")

    def stop(self) -> None:
        if self.running:
            self._stop()
            self.running = False

    def close(self) -> None:
        self.stop()
        self.issuer.close()

    def verifier(self, cache: DiskCache | None, **kw) -> Verifier:
        return Verifier(policy=TrustPolicy({self.issuer.did: ["USMCACertificationOfOrigin"]}),
                        session=self.server.session(), allow_hosts=self.server.allow_hosts, cache=cache, **kw)

    def cli_args(self, *extra: object) -> list[str]:
        return ["credential", str(self.file), "--trust", str(self.trust), "--ca-bundle", str(self.server.ca_path),
                "--allow-host", self.server.host, *map(str, extra)]


@pytest.fixture
def site(tmp_path):
    made = Site(tmp_path)
    yield made
    made.close()


def vc_verify(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


def used_cache(output: str, url: str) -> bool:
    """Whether the report warns that the status list at ``url`` came from the cache on disk."""
    return any(line.strip().startswith(f"WARNING: status list {url} could not be fetched")
               and line.rstrip().endswith("(stale_if_error; from the cache on disk)") for line in output.splitlines())


# -- the command line ------------------------------------------------------------------------------


def test_a_second_run_uses_the_cache_only_with_stale_status_if_error(site, tmp_path):
    """Run 1 verifies online and fills the cache; the issuer goes away; run 2, a new process,
    verifies from the cache with --stale-status-if-error (and says so), and without it could
    not verify."""
    cache = tmp_path / "cache"

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO), "TRADEVC_CACHE_DIR": str(cache)}
        return subprocess.run([sys.executable, "-m", "tradevc.verifier.cli", *site.cli_args(*extra)],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    first = run()
    assert first.returncode == 0, first.stdout + first.stderr
    assert "WARNING" not in first.stdout
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    files = entries(cache)
    assert len(files) == len(site.list_urls) + 1, files  # the status lists and the DID document
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)

    site.stop()
    stale = run("--stale-status-if-error", "60")
    assert stale.returncode == 0, stale.stdout + stale.stderr
    assert all(used_cache(stale.stdout, url) for url in site.list_urls), stale.stdout
    assert "still within its freshness" in stale.stdout  # ttl one day: fresh, but not fetched
    assert f"{site.issuer.did} resolved from cache" in stale.stdout, stale.stdout

    strict = run()
    assert strict.returncode == 3, strict.stdout + strict.stderr
    assert "STATUS_RETRIEVAL_ERROR" in strict.stdout or "RETRIEVAL_ERROR" in strict.stdout


def test_no_cache_and_offline_do_not_read_the_cache(site, tmp_path):
    cache = tmp_path / "cache"
    assert vc_verify(*site.cli_args("--cache-dir", cache)).exit_code == 0
    assert len(entries(cache)) == len(site.list_urls) + 1
    site.stop()
    assert vc_verify(*site.cli_args("--cache-dir", cache, "--stale-status-if-error", "60")).exit_code == 0
    refused = vc_verify(*site.cli_args("--cache-dir", cache, "--stale-status-if-error", "60", "--no-cache"))
    assert refused.exit_code == 3, refused.output
    offline = vc_verify(*site.cli_args("--cache-dir", cache, "--stale-status-if-error", "60", "--offline"))
    assert offline.exit_code == 3, offline.output


def test_the_default_cache_directory_is_under_xdg_cache_home(site, tmp_path):
    xdg = tmp_path / "xdg"
    env = {"TRADEVC_CACHE_DIR": "", "XDG_CACHE_HOME": str(xdg)}
    assert vc_verify(*site.cli_args(), env=env).exit_code == 0
    assert len(entries(xdg / "tradevc" / "verifier")) == len(site.list_urls) + 1
    site.stop()
    assert vc_verify(*site.cli_args("--stale-status-if-error", "60"), env=env).exit_code == 0


def fill_then_stop(site: Site, cache: Path) -> None:
    run = vc_verify(*site.cli_args("--cache-dir", cache))
    assert run.exit_code == 0, run.output
    site.stop()


def stale_run(site: Site, cache: Path):
    return vc_verify(*site.cli_args("--cache-dir", cache, "--stale-status-if-error", "60"))


def test_a_cached_list_with_a_byte_flipped_is_not_used(site, tmp_path):
    cache = tmp_path / "cache"
    fill_then_stop(site, cache)
    path = DiskCache(cache).entry_path(STATUS_LIST, site.list_url)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    path.write_bytes(bytes(data))
    run = stale_run(site, cache)
    assert run.exit_code == 3, run.output
    assert "could not be fetched" in run.output and not used_cache(run.output, site.list_url)
    assert not path.exists()  # ignored and deleted


def test_a_truncated_cache_file_is_not_used(site, tmp_path):
    cache = tmp_path / "cache"
    fill_then_stop(site, cache)
    path = DiskCache(cache).entry_path(STATUS_LIST, site.list_url)
    path.write_bytes(path.read_bytes()[:-100])
    run = stale_run(site, cache)
    assert run.exit_code == 3, run.output
    assert not path.exists()


def test_a_list_signed_by_another_issuer_in_the_cache_is_not_used(site, tmp_path):
    cache = tmp_path / "cache"
    fill_then_stop(site, cache)
    # the other issuer's list, at the same URL, well-formed in the cache (consistent size and SHA-256)
    with Issuer.init(tmp_path / "other", PASS, name="Other", did_web_domain=site.server.host,
                     status_base_url=site.server.url("status/")) as other:
        other.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                    valid_from=VALID_FROM.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    valid_until=(VALID_FROM + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        forged = dict(other.status_list_credentials())[site.list_url]
    store = DiskCache(cache)
    assert store.put(STATUS_LIST, site.list_url, json.dumps(forged).encode(), media_type="application/json",
                     fetched_at=datetime.now(timezone.utc), max_bytes=1 << 24)
    run = stale_run(site, cache)
    assert run.exit_code == 3, run.output
    assert not used_cache(run.output, site.list_url)
    assert not store.entry_path(STATUS_LIST, site.list_url).exists()  # deleted once it failed


def test_another_urls_entry_under_the_lists_name_is_not_used(site, tmp_path):
    cache = tmp_path / "cache"
    fill_then_stop(site, cache)
    store = DiskCache(cache)
    did_entry, list_entry = store.entry_path(DID_DOCUMENT, site.did_url), store.entry_path(STATUS_LIST, site.list_url)
    list_entry.write_bytes(did_entry.read_bytes())  # not what its name says
    run = stale_run(site, cache)
    assert run.exit_code == 3, run.output
    assert not used_cache(run.output, site.list_url)


def test_a_404_does_not_fall_back_to_the_cache(site, tmp_path):
    cache = tmp_path / "cache"
    assert vc_verify(*site.cli_args("--cache-dir", cache)).exit_code == 0
    path = site.server.root / site.list_url.split(f"{site.server.host}/", 1)[1]
    path.unlink()  # the issuer answers: there is no such list
    run = stale_run(site, cache)
    assert run.exit_code == 3 and "HTTP 404" in run.output and not used_cache(run.output, site.list_url), run.output


def test_a_server_error_falls_back_to_the_cache(site, tmp_path):
    cache = tmp_path / "cache"
    assert vc_verify(*site.cli_args("--cache-dir", cache)).exit_code == 0
    site.server.special["/" + site.list_url.split(f"{site.server.host}/", 1)[1]] = body(b"down", status=503)
    run = stale_run(site, cache)
    assert run.exit_code == 0, run.output
    assert "HTTP 503" in run.output and used_cache(run.output, site.list_url)


@pytest.mark.parametrize("unsafe", ["symlink", "group-writable"])
def test_an_unsafe_cache_directory_is_ignored_with_a_warning(site, tmp_path, unsafe):
    real = tmp_path / "real-cache"
    fill_then_stop(site, real)
    cache = real
    if unsafe == "symlink":
        cache = tmp_path / "link"
        cache.symlink_to(real, target_is_directory=True)
    else:
        real.chmod(0o770)
    run = stale_run(site, cache)
    assert run.exit_code == 3, run.output
    warning = [line for line in run.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1 and str(cache) in warning[0] and "not using" in warning[0], run.stderr
    assert "Traceback" not in run.output


def test_the_help_names_the_cache_options():
    for command in ("credential", "presentation", "entry"):
        text = vc_verify(command, "--help").output
        assert "--cache-dir" in text and "--no-cache" in text and "TRADEVC_CACHE_DIR" in text, command


# -- the library ------------------------------------------------------------------------------------


def test_a_new_verifier_reads_the_cache_of_an_earlier_one(site, tmp_path):
    store = DiskCache(tmp_path / "cache")
    now = datetime.now(timezone.utc)
    assert site.verifier(store, clock=lambda: now).verify_credential(site.credential).verified
    site.stop()
    # a day and 20 minutes later: the list (ttl one day) is 20 minutes past its freshness
    later = now + timedelta(days=1, minutes=20)
    result = site.verifier(store, clock=lambda: later, stale_status_if_error=timedelta(hours=1),
                           did_cache_ttl=300.0).verify_credential(site.credential)
    assert not result.verified and result.could_not_verify, result.summary()  # the DID document: a day old
    day_allowed = site.verifier(store, clock=lambda: later, stale_status_if_error=timedelta(days=2))
    result = day_allowed.verify_credential(site.credential)
    assert result.verified, result.summary()
    warning = next(w for w in result.warnings if w.startswith(f"status list {site.list_url}"))
    assert "cache on disk" in warning and "20 min 0 s past its freshness" in warning, warning
    assert "resolved from cache" in result.check("proof").message
    assert result.check("proof").data["didDocumentFrom"].startswith("cache ")
    # without the allowance the cache changes nothing
    assert site.verifier(store, clock=lambda: later).verify_credential(site.credential).could_not_verify
    # beyond the allowance: not used
    too_late = now + timedelta(days=5)
    result = site.verifier(store, clock=lambda: too_late, stale_status_if_error=timedelta(days=2)) \
        .verify_credential(site.credential)
    assert result.could_not_verify, result.summary()


def test_without_a_cache_nothing_is_written_and_nothing_is_remembered(site, tmp_path):
    assert site.verifier(None).verify_credential(site.credential).verified
    site.stop()
    assert site.verifier(None, stale_status_if_error=timedelta(hours=1)).verify_credential(
        site.credential).could_not_verify


def test_a_copy_from_the_future_is_not_used(site, tmp_path):
    store = DiskCache(tmp_path / "cache")
    now = datetime.now(timezone.utc)
    assert site.verifier(store, clock=lambda: now + timedelta(hours=2)).verify_credential(site.credential).verified
    site.stop()
    result = site.verifier(store, clock=lambda: now, stale_status_if_error=timedelta(hours=1)) \
        .verify_credential(site.credential)
    assert result.could_not_verify, result.summary()


def test_the_cache_is_a_disk_cache_not_a_path(tmp_path):
    with pytest.raises(TypeError, match="DiskCache"):
        Verifier(policy=TrustPolicy.unsafe_any_issuer(), cache=str(tmp_path))


def test_a_cached_did_document_that_is_not_the_dids_is_not_used(site, tmp_path):
    store = DiskCache(tmp_path / "cache")
    now = datetime.now(timezone.utc)
    assert site.verifier(store, clock=lambda: now).verify_credential(site.credential).verified
    site.stop()
    copy = store.get(DID_DOCUMENT, site.did_url, max_bytes=1 << 20)
    assert copy is not None
    document = json.loads(copy.body)
    document["id"] = "did:web:evil.example"  # well-formed in the cache, but not the DID's document
    assert store.put(DID_DOCUMENT, site.did_url, json.dumps(document).encode(), media_type=copy.media_type,
                     fetched_at=copy.fetched_at, max_bytes=1 << 20)
    result = site.verifier(store, clock=lambda: now, stale_status_if_error=timedelta(hours=1)) \
        .verify_credential(site.credential)
    assert result.could_not_verify and not result.verified, result.summary()
    assert "resolved from cache" not in result.summary()
    assert not store.entry_path(DID_DOCUMENT, site.did_url).exists()
