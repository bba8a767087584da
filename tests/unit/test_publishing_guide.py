"""PUBLISHING.md, the guide to putting the issuer's site on a real website, is there, the README
and ``vc-issuer serve-site --help`` point to it, and what it says about the verifier matches the
code: the media types a DID document is accepted in, no redirects, the size and time limits."""

from __future__ import annotations

import re

from click.testing import CliRunner

from conftest import ROOT
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.site import media_type_of
from tradevc.vc.retrieval.http import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, DID_MEDIA_TYPES

GUIDE = ROOT / "PUBLISHING.md"


def test_the_guide_is_linked_from_the_readme_and_the_help():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert GUIDE.is_file()
    assert "](PUBLISHING.md)" in readme
    layout = readme[readme.index("## Layout"):]
    assert "PUBLISHING.md" in layout and "examples/trust-policy.json" in layout
    help_text = CliRunner().invoke(issuer_cli, ["serve-site", "--help"]).output
    assert "PUBLISHING.md" in help_text


def test_the_guide_covers_each_topic():
    text = GUIDE.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    for topic in ("What goes where", "HTTPS", "No redirects", "Media types", "CORS", "Caching", "Keeping the lists fresh",
                  "nginx", "Caddy", "Checking it"):
        assert any(h.startswith(topic) for h in headings), topic
    for fact in ("/.well-known/did.json", "Access-Control-Allow-Origin: *", "vc-issuer serve-site", "--ca-bundle",
                 "--allow-host", "Keeping status lists fresh"):
        assert fact in text, fact


def test_what_the_guide_says_of_the_verifier_is_what_it_does():
    text = GUIDE.read_text(encoding="utf-8")
    for media_type in DID_MEDIA_TYPES:
        assert f"`{media_type}`" in text
    assert DEFAULT_MAX_BYTES == 1024 * 1024 and "over 1 MiB" in text
    assert f"more than {DEFAULT_TIMEOUT:g} s" in text
    assert "redirects are\nnot followed" in text or "redirects are not followed" in text


def test_serve_site_sends_the_media_types_the_guide_names():
    text = GUIDE.read_text(encoding="utf-8")
    assert media_type_of(".well-known/did.json", b"{}") == "application/did+json" and "`application/did+json`" in text
    credential = b'{"type": ["VerifiableCredential", "BitstringStatusListCredential"]}'
    assert media_type_of("status/revocation/1", credential) == "application/vc" and "`application/vc`" in text
    assert media_type_of("status/jose/1", b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln\n") == "application/vc+jwt"
    assert "`application/vc+jwt`" in text
