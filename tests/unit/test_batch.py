"""verify_many across worker processes, and ``vc-verify batch``."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.batch import iter_verify_many, read_documents, summarize
from tradevc.verifier.cli import cli
from tradevc.wallet import sign_presentation

REFERENCE = json.loads(
    (Path(__file__).resolve().parents[2] / "bench" / "usmca-certification-of-origin.json").read_text("utf-8")
)
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
KEY = KeyPair.generate("Ed25519")


def credential(number: int, *, status: bool = False) -> dict:
    document = copy.deepcopy(REFERENCE)
    document["id"] = f"urn:uuid:00000000-0000-0000-0000-{number:012d}"
    document["issuer"]["id"] = KEY.did
    del document["validUntil"]
    if not status:
        del document["credentialStatus"]
    return sign_credential(document, KEY, cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def documents() -> list:
    docs = [credential(i) for i in range(12)]
    tampered = copy.deepcopy(docs[3])
    tampered["credentialSubject"]["goods"][0]["commodityCode"] = "000000"
    docs[3] = tampered
    docs[7] = credential(7, status=True)  # offline: the status cannot be checked
    return docs


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier.offline(policy=TrustPolicy({KEY.did: ["USMCACertificationOfOrigin"]}), clock=lambda: NOW)


def outcome(result) -> tuple:
    return result.verified, result.could_not_verify, [(c.name, c.outcome.value, c.code) for c in result.checks]


def test_worker_processes_give_the_same_reports_in_order(documents, verifier):
    serial = verifier.verify_many(documents, workers=1)
    parallel = verifier.verify_many(documents, workers=2)
    assert [outcome(r) for r in parallel] == [outcome(r) for r in serial]
    assert [r.verified for r in serial] == [i not in (3, 7) for i in range(12)]
    assert serial[7].could_not_verify


def test_small_chunks_stream_through(documents, verifier):
    results = list(iter_verify_many(verifier, documents, workers=2, chunk_size=1))
    assert [r.document_id for r in results] == [d["id"] for d in documents]


def test_presentations_need_a_challenge(documents, verifier):
    holder = KeyPair.generate("Ed25519")
    vp = sign_presentation([documents[0]], holder, challenge="c", domain="cbp.gov", created="2026-06-01T00:00:00Z")
    without, = verifier.verify_many([vp], workers=1)
    assert not without.verified and without.could_not_verify
    assert without.check("challenge").code == "CHALLENGE_REQUIRED"
    with_challenge, = verifier.verify_many([vp], workers=1, challenge="c", domain="cbp.gov")
    assert with_challenge.check("proof").outcome.value == "passed"


def test_summary_counts_by_reason(documents, verifier):
    results = verifier.verify_many(documents, workers=1)
    summary = summarize([str(i) for i in range(12)], results)
    assert summary.verified == 10 and summary.total == 12
    assert sum(summary.not_verified.values()) == 1 and sum(summary.could_not_verify.values()) == 1
    assert "proof: PROOF_VERIFICATION_ERROR" in summary.not_verified
    assert "verified" in summary.table()


def test_workers_must_be_positive(verifier):
    with pytest.raises(ValueError):
        list(iter_verify_many(verifier, [], workers=0))


def test_cli_batch_jsonl(documents, tmp_path):
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": [{"did": KEY.did, "name": "Mill", "types": ["USMCACertificationOfOrigin"]}]}))
    batch = tmp_path / "batch.jsonl"
    lines = [json.dumps(d) for d in documents if "credentialStatus" not in d] + ["{not json"]
    batch.write_text("\n".join(lines) + "\n")
    runner = CliRunner()
    r = runner.invoke(cli, ["batch", str(batch), "--trust", str(trust), "--offline", "--workers", "2", "--json"])
    assert r.exit_code == 1, r.output
    report = json.loads(r.output[r.output.index("{"):])
    assert report["total"] == 12 and report["verified"] == 10
    assert report["notVerified"] == {"proof: PROOF_VERIFICATION_ERROR": 1, "structure: PARSING_ERROR": 1}
    assert report["documents"][-1]["source"].endswith("batch.jsonl:12")

    good = tmp_path / "good"
    good.mkdir()
    for i, d in enumerate(documents[:3]):
        (good / f"{i}.json").write_text(json.dumps(d))
    r = runner.invoke(cli, ["batch", str(good), "--trust", str(trust), "--offline", "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "verified" in r.output and len(read_documents(good)) == 3


def test_batch_reads_compact_jws_and_routes_jose_presentations(tmp_path):
    from tradevc.vc.securing.enveloped import envelope_presentation
    from tradevc.vc.securing.jose import sign_credential_jwt, sign_presentation_jwt

    document = copy.deepcopy(REFERENCE)
    document["issuer"]["id"] = KEY.did
    del document["validUntil"], document["credentialStatus"]
    token = sign_credential_jwt(document, KEY)
    vp_token = sign_presentation_jwt([credential(1)], KEY, challenge="c", domain="cbp.gov")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jwt").write_text(token + "\n")
    (inbox / "b.json").write_text(json.dumps(envelope_presentation(vp_token)))
    (inbox / "c.jwt").write_text(vp_token)
    (inbox / "d.json").write_text(json.dumps(credential(2)))
    (inbox / "ignored.txt").write_text("not read")
    sources, documents = zip(*read_documents(inbox))
    assert [Path(s).name for s in sources] == ["a.jwt", "b.json", "c.jwt", "d.json"]
    assert documents[0] == token and documents[2] == vp_token
    verifier = Verifier.offline(policy=TrustPolicy({KEY.did: ["USMCACertificationOfOrigin"]}), clock=lambda: NOW)
    results = list(iter_verify_many(verifier, list(documents), workers=1, challenge="c", domain="cbp.gov"))
    assert [r.verified for r in results] == [True, True, True, True], [r.summary() for r in results]
    assert [type(r).__name__ for r in results] == ["VerificationResult", "PresentationResult", "PresentationResult",
                                                   "VerificationResult"]


def test_batch_routes_a_vp_jwt_typed_with_the_long_media_type():
    from tradevc.vc.multibase import base64url_encode

    payload = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "holder": KEY.did, "verifiableCredential": [credential(3)], "nonce": "c", "aud": "cbp.gov"}
    header = {"alg": "EdDSA", "kid": KEY.verification_method, "typ": "application/vp+jwt"}
    signing_input = ".".join(base64url_encode(json.dumps(part).encode()) for part in (header, payload))
    token = f"{signing_input}.{base64url_encode(KEY.sign(signing_input.encode()))}"
    verifier = Verifier.offline(policy=TrustPolicy({KEY.did: ["USMCACertificationOfOrigin"]}), clock=lambda: NOW)
    [result] = iter_verify_many(verifier, [token], workers=1, challenge="c", domain="cbp.gov")
    assert type(result).__name__ == "PresentationResult" and result.verified, result.summary()


def test_batch_routes_a_vp_without_typ_as_a_presentation():
    """No typ, a VC 2.0 presentation as payload: verified as vp+jwt (VC-JOSE-COSE: typ SHOULD)."""
    from tradevc.vc.multibase import base64url_encode

    payload = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "holder": KEY.did, "verifiableCredential": [credential(3)], "nonce": "c", "aud": "cbp.gov"}
    header = {"alg": "EdDSA", "kid": KEY.verification_method}
    signing_input = ".".join(base64url_encode(json.dumps(part).encode()) for part in (header, payload))
    token = f"{signing_input}.{base64url_encode(KEY.sign(signing_input.encode()))}"
    verifier = Verifier.offline(policy=TrustPolicy({KEY.did: ["USMCACertificationOfOrigin"]}), clock=lambda: NOW)
    [result] = iter_verify_many(verifier, [token], workers=1, challenge="c", domain="cbp.gov")
    assert type(result).__name__ == "PresentationResult" and result.verified, result.summary()
    assert "no typ header" in result.warnings[0]


def test_reports_survive_the_trip_between_processes():
    """Workers send reports back pickled: every field, and each outcome as the enum member."""
    import pickle

    from tradevc.vc.report import PresentationResult
    from tradevc.vc.report import CheckResult, Outcome, VerificationResult

    inner = VerificationResult(document_id="urn:x", warnings=["w"])
    inner.add(CheckResult.failed("proof", "PROOF_VERIFICATION_ERROR", "bad", subject="urn:p", data={"n": [1, 2]}))
    inner.add(CheckResult.error("status", "STATUS_RETRIEVAL_ERROR", "down"))
    report = PresentationResult(document_id="urn:vp")
    report.add(CheckResult.passed("structure", "ok"))
    report.add(CheckResult.skipped("data_loss", "jcs"))
    report.credentials.append(inner)
    copy_ = pickle.loads(pickle.dumps(report))
    assert copy_ == report and type(copy_) is PresentationResult
    outcomes = [c.outcome for c in copy_.checks + copy_.credentials[0].checks]
    assert outcomes == [Outcome.PASSED, Outcome.SKIPPED, Outcome.FAILED, Outcome.ERROR]
    assert all(type(o) is Outcome for o in outcomes)
    assert copy_.credentials[0].checks[0].data == {"n": [1, 2]} and copy_.credentials[0].warnings == ["w"]


class _DyingVerifier:
    """Verifies nothing; the worker process that meets the document "die" exits at once."""

    def verify_document(self, document, *, challenge=None, domain=None):
        import os

        from tradevc.vc.report import CheckResult, VerificationResult

        if document == "die":
            os._exit(3)
        report = VerificationResult(document_id=document)
        report.add(CheckResult.passed("structure"))
        return report


@pytest.mark.parametrize("as_sequence", [True, False])
def test_a_worker_that_dies_is_an_error_not_a_hang(as_sequence):
    from concurrent.futures.process import BrokenProcessPool

    documents = [f"urn:{i}" for i in range(20)] + ["die"] + [f"urn:{i}" for i in range(20, 40)]
    with pytest.raises(BrokenProcessPool):
        list(iter_verify_many(_DyingVerifier(), documents if as_sequence else iter(documents), workers=2,
                              chunk_size=3))


def test_stopping_early_stops_the_workers():
    documents = [f"urn:{i}" for i in range(3000)]
    stream = iter_verify_many(_DyingVerifier(), documents, workers=2, chunk_size=50)
    first = [next(stream).document_id for _ in range(3)]
    stream.close()  # the workers are told to stop and are shut down; nothing is left waiting
    assert first == ["urn:0", "urn:1", "urn:2"]
    assert [r.document_id for r in iter_verify_many(_DyingVerifier(), documents[:7], workers=2, chunk_size=2)] == \
        documents[:7]


def test_a_json_lines_file_is_split_at_newlines_only(tmp_path):
    """JSON strings may hold U+0085, U+2028 and U+2029 unescaped; str.splitlines() breaks lines
    there too, which cut such a document into 'not JSON' pieces and renumbered the rest."""
    documents = [{"name": "a\x85b"}, {"name": "c\u2028d\u2029e"}, {"name": "f"}, {"name": "g\x85"}]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in documents) + "\r\n\n", encoding="utf-8")
    read = read_documents(batch)
    assert [source.rsplit(":", 1)[1] for source, _ in read] == ["1", "2", "3", "4"]
    assert [document for _, document in read] == documents


class _FailingVerifier(_DyingVerifier):
    """Stands in for a verifier with a bug that one document ("boom") meets."""

    def verify_document(self, document, *, challenge=None, domain=None):
        if document == "boom":
            raise ValueError("a bug")
        return super().verify_document(document, challenge=challenge, domain=domain)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_document_the_verifier_fails_on_costs_only_itself(workers):
    documents = ["urn:0", "boom", "urn:2"]
    results = list(iter_verify_many(_FailingVerifier(), documents, workers=workers, chunk_size=1))
    assert [r.verified for r in results] == [True, False, True]
    failed = results[1]
    assert failed.could_not_verify and failed.check("structure").code == "INTERNAL_ERROR"
    assert failed.check("structure").data == {"exception": "ValueError", "detail": "a bug"}
    summary = summarize(["a", "b", "c"], results)
    assert summary.verified == 2 and summary.could_not_verify == {"structure: INTERNAL_ERROR": 1}
