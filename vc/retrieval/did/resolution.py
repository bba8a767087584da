"""DID Resolution results (W3C DID Resolution; DID Core 1.0 section 7): :func:`resolve` turns a
DID into ``didDocument``, ``didDocumentMetadata`` and ``didResolutionMetadata``, and
:func:`dereference` turns a DID URL into the resource it names (the DID document, or the
verification method or service its fragment names).

Neither raises for bad input or a failed resolution: the outcome is in the result, with the
error names of DID Resolution (and, for key material, of the did:key method) in
``didResolutionMetadata.error`` / ``dereferencingMetadata.error``:

==========================  ===========================================================
``invalidDid``              not DID syntax; a did:key / did:jwk / did:web identifier that
                            does not decode (for did:jwk also a JWK that is not a valid
                            public key)
``invalidDidUrl``           (dereference) not DID URL syntax, or its DID is ``invalidDid``
``methodNotSupported``      no resolver for the DID method
``notFound``                did:web answered HTTP 404; (dereference) a path or query, or a
                            fragment that names nothing in the document
``representationNotSupported``  ``accept`` is neither ``application/did+ld+json`` nor
                            ``application/did+json``
``invalidPublicKey``        did:key: not a valid point, non-canonical, or a weak key
``invalidPublicKeyLength``  did:key: the key length does not fit its multicodec
``unsupportedPublicKeyType`` did:key: a multicodec (or ``public_key_format``) not supported
                            here; did:jwk: a key type not supported here
``invalidDidDocument``      the resolved document is not a JSON object or not the DID's
``invalidOptions``          a resolution option of the wrong type
``internalError``           anything else (network failure, offline did:web, a resolver
                            that raised something unexpected)
==========================  ===========================================================

Verification does not go through here: it retrieves keys with
:func:`tradevc.vc.retrieval.did.resolver.retrieve_verification_method`, whose caches stay as they are.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from tradevc.vc.errors import ResolutionError, UnsupportedError
from tradevc.vc.jsontext import json_kind
from tradevc.vc.retrieval.http import RetrievalError
from tradevc.vc.retrieval.did import DID_RE, DidResolutionError
from tradevc.vc.retrieval.did.resolver import DidResolvers

__all__ = [
    "resolve",
    "dereference",
    "ResolutionResult",
    "DereferencingResult",
    "DID_LD_JSON",
    "DID_JSON",
]

DID_LD_JSON = "application/did+ld+json"
"""The JSON-LD representation of a DID document (DID Core 1.0 section 6.3)."""

DID_JSON = "application/did+json"
"""The plain JSON representation of a DID document (DID Core 1.0 section 6.2): no ``@context``."""

_REPRESENTATIONS = (DID_LD_JSON, DID_JSON)

# RFC 3986: fragment = *( pchar / "/" / "?" )
_FRAGMENT_RE = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*")
# RFC 3986 path-abempty and query characters (DID Core 1.0 section 3.2: did-url)
_PCHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_PATH_QUERY_RE = re.compile(rf"(?:/{_PCHAR}*)*(?:\?(?:{_PCHAR}|[/?])*)?")

_RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation", "capabilityDelegation")

_default_resolvers: DidResolvers | None = None


@dataclass(frozen=True)
class ResolutionResult:
    """The result of :func:`resolve`; :meth:`to_json` gives the DID Resolution JSON shape.

    ``message`` explains an error in words; it is not part of the JSON.
    """

    did_document: dict[str, Any] | None
    did_document_metadata: dict[str, Any] = field(default_factory=dict)
    did_resolution_metadata: dict[str, Any] = field(default_factory=dict)
    message: str | None = None

    @property
    def error(self) -> str | None:
        """The DID Resolution error name (``"notFound"``...), or None if the DID resolved."""
        return self.did_resolution_metadata.get("error")

    def to_json(self) -> dict[str, Any]:
        """``{"didDocument": ..., "didDocumentMetadata": {...}, "didResolutionMetadata": {...}}``
        (a copy)."""
        return {
            "didDocument": copy.deepcopy(self.did_document),
            "didDocumentMetadata": copy.deepcopy(self.did_document_metadata),
            "didResolutionMetadata": copy.deepcopy(self.did_resolution_metadata),
        }


@dataclass(frozen=True)
class DereferencingResult:
    """The result of :func:`dereference`; :meth:`to_json` gives the DID URL dereferencing JSON
    shape (``contentStream`` is the resource as a JSON object, or None on error).

    ``message`` explains an error in words; it is not part of the JSON.
    """

    content_stream: dict[str, Any] | None
    content_metadata: dict[str, Any] = field(default_factory=dict)
    dereferencing_metadata: dict[str, Any] = field(default_factory=dict)
    message: str | None = None

    @property
    def error(self) -> str | None:
        """The DID Resolution error name (``"notFound"``...), or None if the URL dereferenced."""
        return self.dereferencing_metadata.get("error")

    def to_json(self) -> dict[str, Any]:
        """``{"contentStream": ..., "contentMetadata": {...}, "dereferencingMetadata": {...}}``
        (a copy)."""
        return {
            "contentStream": copy.deepcopy(self.content_stream),
            "contentMetadata": copy.deepcopy(self.content_metadata),
            "dereferencingMetadata": copy.deepcopy(self.dereferencing_metadata),
        }


def _failed(error: str, message: str) -> ResolutionResult:
    return ResolutionResult(None, {}, {"error": error}, message)


def _defaults() -> DidResolvers:
    global _default_resolvers
    if _default_resolvers is None:
        _default_resolvers = DidResolvers.offline()
    return _default_resolvers


def resolve(
    did: str,
    *,
    resolvers: DidResolvers | None = None,
    accept: str = DID_LD_JSON,
    public_key_format: str | None = None,
    enable_encryption_key_derivation: bool | None = None,
) -> ResolutionResult:
    """Resolve ``did`` to a DID Resolution result.

    ``resolvers`` defaults to :meth:`DidResolvers.offline` (did:key and did:jwk; a did:web DID
    is then an ``internalError`` saying it needs the network): pass
    ``DidResolvers.online(fetcher)`` to resolve did:web. ``accept`` is the preferred
    representation: ``application/did+ld+json`` (the document as resolved, with its
    ``@context``; a document without one is returned as ``application/did+json``) or
    ``application/did+json`` (the document without ``@context``).
    ``public_key_format`` (``"Multikey"`` or ``"JsonWebKey2020"``) and
    ``enable_encryption_key_derivation`` are the did:key resolution options (see
    :func:`tradevc.vc.retrieval.did.key.resolve`); other methods ignore them, and a resolution with them
    bypasses the resolvers' document cache.

    Raises nothing for bad input: errors are returned in ``didResolutionMetadata.error`` (see
    the module documentation for the names and what they mean), with ``didDocument`` None.
    """
    if not isinstance(did, str):
        return _failed("invalidDid", f"a DID must be a string, not {json_kind(did)}")
    if not DID_RE.fullmatch(did):
        hint = " (a DID URL: use dereference())" if any(c in did for c in "#/?") else ""
        return _failed("invalidDid", f"{did!r} is not a DID (did:<method>:<method-specific-id>){hint}")
    if accept not in _REPRESENTATIONS:
        return _failed(
            "representationNotSupported",
            f"representation {accept!r} is not supported (supported: {', '.join(_REPRESENTATIONS)})",
        )
    if enable_encryption_key_derivation is not None and not isinstance(enable_encryption_key_derivation, bool):
        return _failed("invalidOptions", "enableEncryptionKeyDerivation must be true or false")
    if public_key_format is not None and not isinstance(public_key_format, str):
        return _failed("invalidOptions", "publicKeyFormat must be a string")
    resolvers = _defaults() if resolvers is None else resolvers
    method = did.split(":", 2)[1]
    resolver = resolvers.method_resolver(method)
    if resolver is None:
        supported = ", ".join(f"did:{m}" for m in sorted(resolvers.methods))
        return _failed("methodNotSupported", f"DID method did:{method} is not supported here (supported: {supported})")
    options: dict[str, Any] = {}
    if public_key_format is not None:
        options["publicKeyFormat"] = public_key_format
    if enable_encryption_key_derivation is not None:
        options["enableEncryptionKeyDerivation"] = enable_encryption_key_derivation
    try:
        with_options = getattr(resolver, "resolve_with_options", None) if options else None
        document = with_options(did, options) if callable(with_options) else resolvers.resolve(did)
    except DidResolutionError as e:
        return _failed(e.error, e.message)
    except RetrievalError as e:
        if e.status == 404:
            return _failed("notFound", e.message)
        return _failed("internalError", e.message)
    except UnsupportedError as e:
        return _failed("methodNotSupported", e.message)
    except ResolutionError as e:
        return _failed("internalError", e.message)
    except Exception as e:  # a resolver from elsewhere: its failure is a result, not a traceback
        return _failed("internalError", f"the did:{method} resolver failed: {type(e).__name__}: {e}")
    if not isinstance(document, dict):
        return _failed("invalidDidDocument", f"the DID document resolved for {did} is not a JSON object")
    if document.get("id") != did:
        return _failed("invalidDidDocument", f"the DID document resolved for {did} has id {document.get('id')!r}")
    if accept == DID_JSON or "@context" not in document:
        document = {k: v for k, v in document.items() if k != "@context"}
        content_type = DID_JSON
    else:
        content_type = DID_LD_JSON
    return ResolutionResult(document, {}, {"contentType": content_type})


def _absolute(ref: Any, did: str) -> Any:
    return did + ref if isinstance(ref, str) and ref.startswith("#") else ref


def _find(document: dict[str, Any], did_url: str, did: str) -> dict[str, Any] | None:
    """The verification method (listed or embedded in a relationship) or service with id
    ``did_url`` (ids relative to the DID count)."""
    candidates: list[Any] = []
    for key in ("verificationMethod", *_RELATIONSHIPS, "service"):
        value = document.get(key)
        if isinstance(value, list):
            candidates.extend(value)
        elif isinstance(value, dict):
            candidates.append(value)
    for entry in candidates:
        if isinstance(entry, dict) and _absolute(entry.get("id"), did) == did_url:
            return entry
    return None


def dereference(
    did_url: str,
    *,
    resolvers: DidResolvers | None = None,
    accept: str = DID_LD_JSON,
    public_key_format: str | None = None,
    enable_encryption_key_derivation: bool | None = None,
) -> DereferencingResult:
    """Dereference ``did_url``: a DID gives its DID document (``contentMetadata`` is the
    ``didDocumentMetadata``); a DID with a ``#fragment`` gives the verification method or
    service with that id, as a JSON object with an absolute ``id`` (and, in the
    ``application/did+ld+json`` representation, the document's ``@context``).
    ``dereferencingMetadata.contentType`` is the representation of the DID document the
    resource comes from. Options are those of :func:`resolve`.

    Raises nothing for bad input. On error ``contentStream`` is None and
    ``dereferencingMetadata.error`` says why: ``invalidDidUrl`` (not DID URL syntax, or its DID
    is not a valid DID), ``notFound`` (a path or query, which no method here gives meaning to,
    or a fragment naming nothing in the document), or the error of resolving the DID
    (``methodNotSupported``, ``notFound``, ``invalidPublicKey``, ...).
    """
    if not isinstance(did_url, str):
        return DereferencingResult(
            None, {}, {"error": "invalidDidUrl"}, f"a DID URL must be a string, not {json_kind(did_url)}"
        )
    before_fragment, hash_sign, fragment = did_url.partition("#")
    split = re.search(r"[/?]", before_fragment)
    did = before_fragment[: split.start()] if split else before_fragment
    path_query = before_fragment[split.start():] if split else ""
    if not DID_RE.fullmatch(did) or not _PATH_QUERY_RE.fullmatch(path_query) or not _FRAGMENT_RE.fullmatch(fragment):
        return DereferencingResult(None, {}, {"error": "invalidDidUrl"}, f"{did_url!r} is not a valid DID URL")
    if path_query:
        method = did.split(":", 2)[1]
        return DereferencingResult(
            None, {}, {"error": "notFound"}, f"{did_url}: DID URL paths and queries name nothing for did:{method} here"
        )
    result = resolve(
        did,
        resolvers=resolvers,
        accept=accept,
        public_key_format=public_key_format,
        enable_encryption_key_derivation=enable_encryption_key_derivation,
    )
    if result.did_document is None:
        error = result.error or "internalError"
        error = "invalidDidUrl" if error == "invalidDid" else error
        return DereferencingResult(None, {}, {"error": error}, result.message)
    content_type = result.did_resolution_metadata["contentType"]
    if not hash_sign:
        return DereferencingResult(result.did_document, result.did_document_metadata, {"contentType": content_type})
    found = _find(result.did_document, did_url, did)
    if found is None:
        return DereferencingResult(
            None, {}, {"error": "notFound"}, f"{did_url} names nothing in the DID document of {did}"
        )
    resource = copy.deepcopy(found)
    resource["id"] = did_url
    if content_type == DID_LD_JSON and "@context" not in resource:
        resource = {"@context": copy.deepcopy(result.did_document["@context"]), **resource}
    return DereferencingResult(resource, {}, {"contentType": content_type})
