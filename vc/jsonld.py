"""JSON-LD processing with pinned contexts only, and data-loss detection.

The only JSON-LD contexts this library ever reads are the files pinned in the ``contexts``
package, each checked against the SHA-256 in ``contexts/index.json`` the first time it is
loaded, and those of a folder the user pins (:meth:`PinnedContextLoader.with_user_contexts`),
each checked when the folder is read. Anything else raises
:class:`~tradevc.vc.errors.ContextNotPinned`; nothing is fetched.

Every pyld call goes through :func:`expand` and :func:`to_dataset` with the loader passed in
per call and a context cache owned by the loader (pyld's module-wide cache is never used, so
no other loader in the process can poison ours).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Container, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson
import rfc8785

from pyld import jsonld as _pyld
from pyld.context_resolver import ContextResolver
from pyld.resolved_context import MAX_ACTIVE_CONTEXTS, ResolvedContext
from pyld.jsonld import JsonLdProcessor
from pyld.jsonld import _is_absolute_iri as _pyld_keeps

from tradevc.vc.errors import (
    NotUtf8Error,
    ContextIndexError,
    ContextNotPinned,
    DataLossError,
    InvalidDocument,
    ProtectedTermRedefinition,
    ResolutionError,
    VcError,
)
from tradevc.vc.jsontext import decode_text

__all__ = [
    "DocumentLoader",
    "PinnedContextLoader",
    "USER_INDEX_FILE",
    "ContextUse",
    "check_context_use",
    "contexts_of",
    "default_loader",
    "inline_context_sha256",
    "expand",
    "to_dataset",
    "refuse_hidden_properties",
]

RemoteDocument = dict[str, Any]


class DocumentLoader(Protocol):
    """A pyld-compatible document loader: ``loader(url, options) -> remote document``.

    The remote document is ``{"contextUrl": None, "documentUrl": url, "document": <parsed JSON>}``;
    a loader may add ``"tag": "static"`` for documents that never change, which lets the
    context processing result be cached for the life of the loader.
    """

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> RemoteDocument: ...


USER_INDEX_FILE = "index.json"
"""The index of a folder of user-pinned contexts (see :meth:`PinnedContextLoader.with_user_contexts`)."""

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PinnedContextLoader:
    """Serves the pinned JSON-LD contexts of the ``contexts`` package (and of a user's folder,
    see :meth:`with_user_contexts`), and nothing else.

    Each bundled file's SHA-256 is checked against ``index.json`` when it is first read; a
    mismatch raises :class:`ResolutionError`. Unknown URLs raise :class:`ContextNotPinned`
    naming the URL. Thread-safe; parsed contexts and pyld's processed contexts are kept for
    the loader's life.

    :attr:`inline_sha256` holds the SHA-256 (of the JCS serialization, see
    :func:`inline_context_sha256`) of the inline ``@context`` objects the user pinned: only
    those are accepted in documents whose signature does not cover them (RDFC proofs).
    """

    def __init__(self, index: Mapping[str, tuple[str, str]] | None = None) -> None:
        """``index`` maps URL -> (file name in the contexts package, sha256 hex); default: index.json."""
        self._index = dict(index) if index is not None else _read_index()
        self._documents: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._served: set[tuple[str, ...]] = set()
        self.inline_sha256: frozenset[str] = frozenset()
        self.user_urls: frozenset[str] = frozenset()
        self._bytes: dict[str, bytes] = {}
        # pyld's processed-context cache, private to this loader (see module docstring).
        self.context_cache: dict[str, Any] = {}

    @classmethod
    def with_user_contexts(cls, directory: str | os.PathLike[str]) -> "PinnedContextLoader":
        """A loader serving the bundled contexts and those a user pins in ``directory``.

        ``directory`` holds context files and an ``index.json`` in the shape of the bundled one::

            {"contexts": [{"url": "https://...", "file": "name.jsonld", "sha256": "<hex>"}],
             "inline": [{"sha256": "<hex of SHA-256 of the JCS serialization>", "note": "..."}]}

        Every file is read and checked against its SHA-256 now. A user context may repeat a
        bundled URL only with the very same bytes.

        :raises ContextIndexError: the index is missing or malformed, a file is missing, outside
            ``directory``, not a JSON-LD context or does not match its SHA-256, a URL is listed
            twice, a URL would replace a bundled context with different bytes, or the ``@import`` of
            a context names one that is not pinned or is not a single context object without ``@import``.
        """
        loader = cls()
        documents, inline = _read_user_index(Path(directory))
        for url, (document, digest, file_name) in documents.items():
            bundled = loader._index.get(url)
            if bundled is not None and bundled[1] != digest:
                raise ContextIndexError(
                    f"{file_name} would replace the bundled context {url} with different bytes "
                    f"(SHA-256 {digest}, bundled {bundled[1]}); a pinned URL keeps its pinned content"
                )
            loader._index[url] = (file_name, digest)
            loader._documents[url] = document
            try:
                loader._bytes[url] = (Path(directory) / file_name).read_bytes()
            except OSError:  # read and checked a moment ago; evidence then names no bytes for it
                pass
        for url, (document, _, file_name) in documents.items():
            # served with its @import already merged (into a copy): pyld merges into the
            # imported document itself, which every later document would then see
            try:
                merged = _merge_imports(document["@context"], {"documentLoader": loader})
            except _pyld.JsonLdError as e:
                raise ContextIndexError(f"{file_name}: its @import cannot be used: {_translate(e).message}") from None
            if merged is not document["@context"]:
                loader._documents[url] = {**document, "@context": merged}
        loader.user_urls = frozenset(documents)
        loader.inline_sha256 = frozenset(inline)
        return loader

    @classmethod
    def from_recorded(cls, contexts: Mapping[str, bytes]) -> "PinnedContextLoader":
        """A loader serving exactly ``contexts`` (URL -> the exact bytes of the context), such
        as an evidence bundle records, and nothing else (not even the bundled contexts).

        :raises ContextIndexError: a body that is not a JSON-LD context, or whose ``@import``
            names a context not given.
        """
        loader = cls(index={})
        for url, data in contexts.items():
            try:
                document = json.loads(decode_text(data, source=url))
            except (NotUtf8Error, ValueError, RecursionError) as e:
                raise ContextIndexError(f"the recorded context {url} is not JSON: {e}") from None
            if not isinstance(document, dict) or not isinstance(document.get("@context"), (dict, list)):
                raise ContextIndexError(f"the recorded context {url} is not a JSON-LD context")
            loader._index[url] = ("(recorded)", hashlib.sha256(data).hexdigest())
            loader._documents[url] = document
            loader._bytes[url] = bytes(data)
        for url in contexts:
            document = loader._documents[url]
            try:
                merged = _merge_imports(document["@context"], {"documentLoader": loader})
            except _pyld.JsonLdError as e:
                raise ContextIndexError(f"the recorded context {url}: its @import cannot be used: "
                                        f"{_translate(e).message}") from None
            if merged is not document["@context"]:
                loader._documents[url] = {**document, "@context": merged}
        return loader

    def context_bytes(self, url: str) -> bytes | None:
        """The exact bytes of the context pinned for ``url`` (None if none is, or its file
        cannot be read): what an evidence bundle records."""
        held = self._bytes.get(url)
        if held is not None:
            return held
        entry = self._index.get(url)
        if entry is None:
            return None
        try:
            data = resources.files("tradevc.contexts").joinpath(entry[0]).read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != entry[1]:  # not what is pinned: nothing to record
            return None
        self._bytes[url] = data  # a handful of pinned files, kept once read
        return data

    @property
    def urls(self) -> frozenset[str]:
        """The context URLs this loader serves."""
        return frozenset(self._index)

    def require(self, urls: tuple[str, ...]) -> None:
        """Load each of ``urls`` (remembering the tuples that all loaded, so that the contexts
        of the documents that follow cost one lookup).

        :raises ContextNotPinned, ResolutionError: as :meth:`__call__`.
        """
        if urls in self._served:
            return
        for url in urls:
            self(url)
        if len(self._served) >= 1024:
            self._served.clear()
        self._served.add(urls)

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> RemoteDocument:
        """Return the pinned context for ``url``.

        :raises ContextNotPinned: the URL is not pinned.
        :raises ResolutionError: the pinned file is missing or its SHA-256 does not match.
        """
        document = self._documents.get(url)
        if document is None:
            with self._lock:
                document = self._documents.get(url)
                if document is None:
                    document = self._load(url)
                    self._documents[url] = document
        return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}

    def _load(self, url: str) -> Any:
        entry = self._index.get(url)
        if entry is None:
            raise ContextNotPinned(
                f"JSON-LD context {url!r} is not one of the pinned contexts; it will not be fetched"
            )
        file_name, expected_sha256 = entry
        try:
            data = resources.files("tradevc.contexts").joinpath(file_name).read_bytes()
        except (FileNotFoundError, OSError) as e:
            raise ResolutionError(f"pinned context file {file_name!r} for {url!r} is missing") from e
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected_sha256:
            raise ResolutionError(
                f"pinned context {url!r} ({file_name}) has SHA-256 {actual}, expected {expected_sha256}"
            )
        return json.loads(data)


def _read_index() -> dict[str, tuple[str, str]]:
    raw = json.loads(resources.files("tradevc.contexts").joinpath("index.json").read_bytes())
    return {entry["url"]: (entry["file"], entry["sha256"]) for entry in raw["contexts"]}


def _read_user_index(directory: Path) -> tuple[dict[str, tuple[Any, str, str]], set[str]]:
    """The contexts of a user's folder (URL -> (parsed document, sha256, file name)) and its
    inline pins, every file checked. :raises ContextIndexError: see ``with_user_contexts``."""
    index_path = directory / USER_INDEX_FILE
    try:
        raw = json.loads(decode_text(index_path.read_bytes(), source=str(index_path)))
    except NotUtf8Error as e:
        raise ContextIndexError(e.message) from None
    except FileNotFoundError:
        raise ContextIndexError(f"no {USER_INDEX_FILE} in the contexts folder {directory}") from None
    except OSError as e:
        raise ContextIndexError(f"cannot read {index_path}: {e.strerror or e}") from None
    except (ValueError, RecursionError) as e:
        raise ContextIndexError(f"{index_path} is not JSON: {e}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("contexts", []), list) or not isinstance(
        raw.get("inline", []), list
    ):
        raise ContextIndexError(
            f'{index_path} must be an object with a "contexts" list (url, file, sha256) '
            'and/or an "inline" list (sha256)'
        )
    root = directory.resolve()
    documents: dict[str, tuple[Any, str, str]] = {}
    for number, entry in enumerate(raw.get("contexts", []), 1):
        where = f"{index_path}, contexts entry {number}"
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("url", "file", "sha256")):
            raise ContextIndexError(f'{where}: needs "url", "file" and "sha256" strings')
        url, file_name, digest = entry["url"], entry["file"], _sha256_field(entry["sha256"], where)
        if not _is_absolute_iri(url):
            raise ContextIndexError(f"{where}: {url!r} is not an absolute URL")
        if url in documents:
            raise ContextIndexError(f"{where}: {url} is listed twice")
        try:
            path = (directory / file_name).resolve()
        except (OSError, ValueError):  # a NUL, a lone surrogate...
            raise ContextIndexError(f"{where}: {file_name!r} is not a usable file name") from None
        if Path(file_name).is_absolute() or not path.is_relative_to(root):
            raise ContextIndexError(f"{where}: the file {file_name!r} is not inside the contexts folder")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ContextIndexError(f"{where}: cannot read {file_name}: {e.strerror or e}") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise ContextIndexError(f"{where}: {file_name} has SHA-256 {actual}, the index pins {digest}")
        try:
            document = json.loads(decode_text(data, source=file_name))
        except NotUtf8Error as e:
            raise ContextIndexError(f"{where}: {e.message}") from None
        except (ValueError, RecursionError) as e:
            raise ContextIndexError(f"{where}: {file_name} is not JSON: {e}") from None
        if not isinstance(document, dict) or not isinstance(document.get("@context"), (dict, list)):
            raise ContextIndexError(f'{where}: {file_name} is not a JSON-LD context (an object with "@context")')
        documents[url] = (document, digest, file_name)
    inline: set[str] = set()
    for number, entry in enumerate(raw.get("inline", []), 1):
        where = f"{index_path}, inline entry {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise ContextIndexError(f'{where}: needs a "sha256" string (of the inline context\'s JCS serialization)')
        inline.add(_sha256_field(entry["sha256"], where))
    return documents, inline


def _sha256_field(value: str, where: str) -> str:
    digest = value.lower()
    if not _SHA256.match(digest):
        raise ContextIndexError(f"{where}: {value!r} is not a SHA-256 in hex (64 characters)")
    return digest


def inline_context_sha256(context: Any) -> str:
    """The pin of an inline ``@context`` value: the SHA-256, in hex, of its JSON Canonicalization
    Scheme (RFC 8785) serialization, so that key order and white space do not matter.

    :raises InvalidDocument: the value cannot be serialized with JCS (e.g. NaN, integers
        beyond 2**53, keys that are not strings).
    """
    try:
        return hashlib.sha256(rfc8785.dumps(context)).hexdigest()
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as e:
        raise InvalidDocument(f"the inline @context cannot be serialized with JCS (RFC 8785): {e}") from None


_default_loader: PinnedContextLoader | None = None


def default_loader() -> PinnedContextLoader:
    """The process-wide loader of pinned contexts (created on first use, shared so that each
    context is processed once per process)."""
    global _default_loader
    if _default_loader is None:
        _default_loader = PinnedContextLoader()
    return _default_loader


class _ActiveContext(dict[str, Any]):
    """A pyld active context in which a local context's ``"@vocab": null`` (``@language``,
    ``@direction``) removes the mapping if there is one and does nothing otherwise, as JSON-LD
    1.1 (Context Processing, steps 5.8 to 5.10) says. pyld 3.3 deletes the key unconditionally,
    so ``{"@vocab": null}`` over contexts without a vocabulary mapping raised ``KeyError``."""

    __slots__ = ()

    def __delitem__(self, key: str) -> None:
        if key in self or key not in ("@vocab", "@language", "@direction"):
            super().__delitem__(key)


class Processor(JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor, with the active contexts of :class:`_ActiveContext`. Every pyld call
    of this library (here and in :mod:`tradevc.vc.fastpath`) goes through it."""

    def _clone_active_context(self, active_ctx: dict[str, Any]) -> dict[str, Any]:
        return _ActiveContext(super()._clone_active_context(active_ctx))

    def _process_context(self, active_ctx: dict[str, Any], local_ctx: Any, options: dict[str, Any], *args: Any,
                         **kwargs: Any) -> dict[str, Any]:
        processed: dict[str, Any] = super()._process_context(active_ctx, _merge_imports(local_ctx, options), options,
                                                             *args, **kwargs)
        return processed


def _merge_imports(local_ctx: Any, options: Mapping[str, Any]) -> Any:
    """``local_ctx`` with each context object holding ``@import`` replaced by a new object: the
    imported context merged with it (JSON-LD 1.1, Context Processing step 5.6). pyld 3.3 merges
    the local context *into the imported document itself*, the one its context cache shares
    with every later operation (and caches the merge as if it were a processed context): one
    document's inline context would change what a pinned context means for all others."""
    context = local_ctx["@context"] if isinstance(local_ctx, dict) and "@context" in local_ctx else local_ctx
    entries = context if isinstance(context, list) else [context]
    if not any(isinstance(entry, dict) and "@import" in entry for entry in entries):
        return local_ctx
    merged_entries = []
    for entry in entries:
        if isinstance(entry, dict) and "@import" in entry:
            url = entry["@import"]
            if not isinstance(url, str):
                raise _pyld.JsonLdError(
                    "Invalid JSON-LD syntax; @import must be a string", "jsonld.SyntaxError", {"context": entry},
                    code="invalid @import value",
                )
            try:
                document = options["documentLoader"](url, {})["document"]
            except Exception as e:  # noqa: BLE001 - reported as pyld reports a context it cannot load
                raise _pyld.JsonLdError(
                    "Dereferencing a URL did not result in a valid JSON-LD object.", "jsonld.InvalidUrl",
                    {"url": url}, code="loading remote context failed",
                ) from e
            imported = document.get("@context") if isinstance(document, dict) else None
            if not isinstance(imported, dict) or "@import" in imported:
                raise _pyld.JsonLdError(
                    "Invalid JSON-LD syntax; @import must reference a single context without @import.",
                    "jsonld.SyntaxError", {"context": url}, code="invalid remote context",
                )
            merged = dict(imported)
            if "@propagate" not in entry:  # read from the local context alone (step 4)
                merged.pop("@propagate", None)
            merged.update(entry)
            del merged["@import"]
            entry = merged
        merged_entries.append(entry)
    return merged_entries if isinstance(context, list) else merged_entries[0]


class _ProcessedContexts:
    """What a resolved context keeps of the contexts processed from it (pyld's
    ``ResolvedContext.cache``: the last :data:`pyld.resolved_context.MAX_ACTIVE_CONTEXTS` used,
    by active context), behind a lock. pyld's own (cachetools' ``LRUCache``) is not safe for
    threads, and a resolved pinned context is shared by every operation of a loader: threads
    that evict from it at once raise ``KeyError`` or ``RuntimeError`` from inside pyld."""

    __slots__ = ("_entries", "_lock")

    def __init__(self) -> None:
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ACTIVE_CONTEXTS:
                self._entries.popitem(last=False)


class _Resolver(ContextResolver):  # type: ignore[misc]
    """pyld's context resolver, except that inline context objects stay in the cache of one
    operation. pyld keeps them in the shared cache (the loader's, for its life) under their
    serialization: every distinct inline context a verifier ever saw would stay in memory.
    Pinned contexts (URLs) are still shared, each with a cache of its processed contexts that
    threads may use at once (:class:`_ProcessedContexts`)."""

    def _cache_resolved_context(self, key: str, resolved: Any, tag: Any) -> Any:
        if key.startswith("{"):  # the canonical JSON of an inline context, never a URL
            self.per_op_cache[key] = resolved
            return resolved
        for context in resolved if isinstance(resolved, list) else [resolved]:
            if isinstance(context, ResolvedContext) and not isinstance(context.cache, _ProcessedContexts):
                context.cache = _ProcessedContexts()  # before any other thread can see it
        return super()._cache_resolved_context(key, resolved, tag)


def _options(loader: DocumentLoader) -> dict[str, Any]:
    cache = getattr(loader, "context_cache", None)
    if cache is None:  # a foreign loader: give it a cache of its own for this call only
        cache = {}
    return {
        "documentLoader": loader,
        # VC Data Integrity: the base URL MUST be null, so relative IRIs stay relative and are caught.
        "base": None,
        "contextResolver": _Resolver(cache, loader),
    }


def expand(document: Mapping[str, Any], loader: DocumentLoader) -> list[Any]:
    """Expand ``document`` with ``loader``, refusing any loss of data.

    :raises DataLossError: a property or type is not defined by the contexts, or an ``@id``
        or ``@type`` stays a relative IRI (it would be silently dropped from the RDF).
    :raises ContextNotPinned: the document uses a context the loader does not serve.
    :raises InvalidDocument: the document is not valid JSON-LD.
    """
    dropped: list[str] = []

    def on_dropped(term: str | None) -> None:
        dropped.append("(null)" if term is None else term)

    try:
        expanded: list[Any] = Processor(on_property_dropped=on_dropped).expand(dict(document), _options(loader))
    except _PYLD_FAILURES as e:
        raise _translate(e) from e
    if dropped:
        raise DataLossError(
            "JSON-LD expansion would drop "
            + ", ".join(f"term {t!r}" for t in sorted(set(dropped)))
            + ": the contexts do not define it, so it would not be signed"
        )
    _check_absolute(expanded)
    return expanded


_NODE_KEYWORDS = frozenset({"@context", "@id", "@type", "@value", "@language", "@direction", "@list", "@set", "@index"})
"""The keywords a document secured by an RDFC proof may use as member names: they describe the
node or value they are in; the others (``@included``, ``@reverse``, ``@graph``, ``@nest``...)
put statements somewhere other than where the member names say."""


def refuse_hidden_properties(document: Any, what: str = "the document") -> None:
    """Refuse a property written as an IRI or a compact IRI (a member name with a ``:``)
    instead of as a term, or a keyword that moves statements to another node (``@included``,
    ``@reverse``, ``@graph``, ``@nest``), anywhere in ``document`` outside ``@context``.

    RDF canonicalization signs the statements, not the member names: a member renamed from
    ``credentialStatus`` to the IRI the term stands for
    (``https://www.w3.org/2018/credentials#credentialStatus``), or moved into an ``@included``
    node with the credential's ``id``, gives the same statements and the same signature, but
    every reader that looks the claim up by its term (the status check, the validity period,
    the proof's ``expires``) no longer finds it. So a document secured by an RDFC proof must
    write its properties as terms, where they belong.

    :raises DataLossError: naming the first such member.
    """
    stack: list[Any] = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            for key, value in item.items():
                if key == "@context":
                    continue
                if isinstance(key, str) and key.startswith("@") and key not in _NODE_KEYWORDS:
                    raise DataLossError(
                        f"{what} has a member {key[:120]!r}: it would put statements where readers of the JSON "
                        "do not look for them, and an RDFC signature does not cover member names"
                    )
                if isinstance(key, str) and ":" in key:
                    raise DataLossError(
                        f"{what} writes the property {key[:120]!r} as an IRI, not as a term of its contexts: an "
                        "RDFC signature does not cover member names, so readers looking claims up by their terms "
                        "would miss it; write it as the term the contexts define for it"
                    )
                stack.append(value)


def to_dataset(document: Mapping[str, Any], loader: DocumentLoader) -> dict[str, list[dict[str, Any]]]:
    """Expand ``document`` losslessly and convert it to pyld's RDF dataset form
    (graph name -> list of triples).

    :raises DataLossError, ContextNotPinned, InvalidDocument: as :func:`expand`.
    """
    expanded = expand(document, loader)
    try:
        dataset: dict[str, list[dict[str, Any]]] = Processor().to_rdf(expanded, _options(loader))
    except _PYLD_FAILURES as e:
        raise _translate(e) from e
    return dataset


# pyld reports bad input as JsonLdError, but some malformed documents reach its internals and
# surface as plain Python errors; any of them means "this is not valid JSON-LD" here.
_PYLD_FAILURES = (
    _pyld.JsonLdError, TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError,
    OverflowError,  # an integer beyond the float range (json.loads reads 4300 digits): pyld tries float()
)


def _translate(error: Exception) -> VcError:
    """Map a pyld error to ours, surfacing a ContextNotPinned raised inside the loader."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ResolutionError):
            return type(cause)(cause.message)
        cause = cause.__cause__ or cause.__context__
    details = getattr(error, "details", None)
    code = getattr(error, "code", None)
    if code in _PROTECTED_CODES:
        where = f": {_short(details)}" if isinstance(details, dict) and details else ""
        return ProtectedTermRedefinition(
            "an @context redefines or clears a term that an earlier context protects (JSON-LD 1.1 "
            f"@protected), such as credentialSubject or VerifiableCredential ({code}){where}"
        )
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if code:
        text = f"{text} ({code})"
    if isinstance(details, dict) and details:
        text = f"{text}; details: {_short(details)}"
    return InvalidDocument(f"invalid JSON-LD: {text}")


_PROTECTED_CODES = ("protected term redefinition", "invalid context nullification")


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_KEYWORDS_WITH_IRI = ("@id", "@type")


def _is_absolute_iri(value: str) -> bool:
    colon = value.find(":")
    if colon <= 0:
        return False
    scheme = value[:colon]
    return scheme[0].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


def _check_absolute(node: Any) -> None:
    """Walk expanded JSON-LD and refuse relative IRIs in ``@id`` and ``@type`` (pyld drops them
    from the RDF without a word) and in property positions."""
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        is_value = "@value" in item
        for key, value in item.items():
            if key == "@id":
                _require_iri(value, "@id", blank_ok=True)
            elif key == "@type":
                if is_value:
                    if value != "@json":
                        _require_iri(value, "datatype", blank_ok=False)
                else:
                    for t in value if isinstance(value, list) else [value]:
                        _require_iri(t, "@type", blank_ok=True)
            elif key == "@value":
                continue
            elif not key.startswith("@"):
                _require_iri(key, "property", blank_ok=False)
                stack.append(value)
            else:
                stack.append(value)


def _require_iri(value: Any, role: str, *, blank_ok: bool) -> None:
    # pyld's RDF conversion drops the triple of an IRI or blank node label holding white space
    # in Unicode's sense (U+0085, U+00A0, U+2028...), and in a list hands on None for it.
    if (
        isinstance(value, str) and (_is_absolute_iri(value) or (blank_ok and value.startswith("_:")))
        and _pyld_keeps(value)
    ):
        return
    raise DataLossError(
        f"{role} value {value!r} is not an absolute IRI after JSON-LD expansion "
        "(an undefined term, a relative IRI, or white space in it); it would be dropped from the signed data"
    )


def loader_from_documents(documents: Mapping[str, Any]) -> Callable[[str, Any], RemoteDocument]:
    """A loader serving the given already-parsed documents (for tests and tools); anything else
    raises :class:`ContextNotPinned`."""

    def load(url: str, options: Any = None) -> RemoteDocument:
        if url not in documents:
            raise ContextNotPinned(f"JSON-LD context {url!r} is not one of the pinned contexts")
        return {"contextUrl": None, "documentUrl": url, "document": documents[url], "tag": "static"}

    return load


def iter_context_urls(context: Any) -> Iterable[str]:
    """The string entries of an ``@context`` value, in order."""
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, str):
            yield entry


# -- which contexts a document uses, and whether they may be used --------------------------------


class ContextUse(NamedTuple):
    """The contexts a document uses: ``urls``, every URL entry of an ``@context`` anywhere in
    it (each once), and ``inline``, every other entry (inline context objects, ``null``);
    ``pinned`` of those are pinned by their SHA-256 (see :func:`check_context_use`)."""

    urls: tuple[str, ...]
    inline: tuple[Any, ...]
    pinned: int = 0


_CONTEXT_KEY = b'"@context":'
_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_URL_CONTEXT = re.compile(rb'"@context":(' + _STRING + rb'|\[(?:' + _STRING + rb'(?:,' + _STRING + rb')*)?\])')


def contexts_of(document: Mapping[str, Any]) -> ContextUse:
    """The context URLs (each once, in order) and inline contexts ``document`` uses: every
    entry of every ``@context`` in it, at the top, in the objects inside it, and in its proofs.

    Raises nothing: a value that is neither a string nor a list counts as one inline entry.
    """
    try:
        data = orjson.dumps(document)
    except (orjson.JSONEncodeError, RecursionError):
        return _walk(document)  # not plain JSON (or too deep for orjson)
    # The common document: every @context is a URL or a list of URLs. One serialization in C
    # and a regular expression instead of a walk in Python (a key is always followed by ':';
    # a quote inside a string is escaped). The same values recur from document to document.
    values = []
    at = data.find(_CONTEXT_KEY)
    while at != -1:
        match = _URL_CONTEXT.match(data, at)
        if match is None:
            return _walk(document)
        values.append(match.group(1))
        at = data.find(_CONTEXT_KEY, match.end())
    key = b"\n".join(values)  # JSON text holds no raw line feed
    use = _USES.get(key)
    if use is None:
        urls: dict[str, None] = {}
        for value in values:
            parsed = orjson.loads(value)
            for url in parsed if isinstance(parsed, list) else [parsed]:
                urls[url] = None
        use = ContextUse(tuple(urls), ())
        if len(_USES) >= _MAX_USES:
            _USES.clear()
        _USES[key] = use
    return use


_USES: dict[bytes, ContextUse] = {}
_MAX_USES = 1024


class _Context:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _walk(document: Mapping[str, Any]) -> ContextUse:
    """:func:`contexts_of` by a walk in document order (the order of the serialization)."""
    urls: dict[str, None] = {}
    inline: list[Any] = []
    stack: list[Any] = [dict(document)]
    while stack:
        item = stack.pop()
        if isinstance(item, _Context):
            for entry in item.value if isinstance(item.value, list) else [item.value]:
                if isinstance(entry, str):
                    urls[entry] = None
                else:
                    inline.append(entry)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            for key, value in reversed(item.items()):
                if key == "@context":
                    stack.append(_Context(value))
                elif isinstance(value, (dict, list)):
                    stack.append(value)
    return ContextUse(tuple(urls), tuple(inline))


def check_context_use(
    document: Mapping[str, Any],
    loader: DocumentLoader,
    *,
    covered_by: str | None,
    not_covered: str = "the signature",
    refuse_data_loss: bool = False,
    use: ContextUse | None = None,
) -> ContextUse:
    """Refuse the contexts of ``document`` that a verifier refuses.

    Every context URL must be one ``loader`` serves. An inline context is accepted where the
    signature covers it, ``covered_by`` (naming the mechanism: "the eddsa-jcs-2022 proof", "the
    JWS"): JCS and JOSE sign the JSON bytes, inline context included. Where it is not covered
    (``covered_by`` is None; ``not_covered`` names the mechanism, e.g. "the eddsa-rdfc-2022
    proof") it is accepted only if the loader pins its SHA-256 (:func:`inline_context_sha256`):
    RDF canonicalization signs the data after the contexts are processed away, so an inline
    context could be rewritten together with the JSON values, changing what every reader of
    the JSON sees while the signed RDF stays the same. A document with inline contexts is then
    expanded, so that none redefines a protected term; ``refuse_data_loss`` also refuses a
    term the contexts leave undefined (otherwise left to the caller's data-loss check).
    ``use`` is :func:`contexts_of` of ``document`` if the caller has it already.

    :raises ContextNotPinned: a URL is not pinned, or an inline context is neither covered nor pinned.
    :raises ResolutionError: a pinned context file does not match its SHA-256.
    :raises ProtectedTermRedefinition: an inline context redefines or clears a protected term.
    :raises DataLossError: with ``refuse_data_loss``, a term is undefined.
    :raises InvalidDocument: the document is not valid JSON-LD.
    """
    if use is None:
        use = contexts_of(document)
    if isinstance(loader, PinnedContextLoader):
        loader.require(use.urls)
    else:
        for url in use.urls:
            loader(url, {})
    if not use.inline:
        return use
    pins: Container[str] = getattr(loader, "inline_sha256", frozenset())
    pinned = 0
    for entry in use.inline:
        try:
            digest: str | None = inline_context_sha256(entry)
        except InvalidDocument:
            digest = None
        if digest is not None and digest in pins:
            pinned += 1
        elif covered_by is None:
            pin = f" (its SHA-256 is {digest})" if digest is not None else ""
            raise ContextNotPinned(
                f"an inline @context is not covered by {not_covered}: RDF canonicalization signs the data after "
                "the contexts are processed away, so an inline context could be rewritten together with the JSON "
                "values without changing the signature, and readers of the JSON would see forged values; "
                f"pin it in a user context index by the SHA-256 of its JCS serialization{pin}, or secure the "
                "document with a JCS cryptosuite or JOSE, which sign the JSON itself"
            )
    _refuse_protected_redefinitions(use, loader)
    try:
        expand({k: v for k, v in document.items() if k != "proof"}, loader)
    except DataLossError:
        if refuse_data_loss:
            raise
    return ContextUse(use.urls, use.inline, pinned)


def _refuse_protected_redefinitions(use: ContextUse, loader: DocumentLoader) -> None:
    """Refuse an inline context that defines a term which a pinned context of the document
    protects, anywhere in it, with another definition than the pinned one. JSON-LD processing
    alone refuses this only where both definitions meet in one active context: the
    credentials contexts define ``credentialSubject`` (and most of their terms) in the scoped
    context of ``VerifiableCredential``, so an inline ``credentialSubject`` at the top of the
    document is silently overridden there instead of refused.

    :raises ProtectedTermRedefinition: naming the term and the context that protects it.
    """
    protected: dict[str, tuple[str, list[Any]]] = {}
    for url in use.urls:
        for name, definition in _term_definitions(loader(url, {})["document"], protected_only=True):
            protected.setdefault(name, (url, []))[1].append(_comparable(definition))
    for entry in use.inline:
        for name, definition in _term_definitions({"@context": entry}, protected_only=False):
            if name in protected and _comparable(definition) not in protected[name][1]:
                raise ProtectedTermRedefinition(
                    f"an inline @context redefines {name!r}, which the pinned context {protected[name][0]} protects "
                    "(JSON-LD 1.1 @protected): a document may not change what the terms of its base contexts mean"
                )


def _term_definitions(document: Any, *, protected_only: bool) -> Iterable[tuple[str, Any]]:
    """The (term, raw definition) pairs of every context object in a context document, scoped
    contexts included; with ``protected_only``, those that are ``@protected``."""
    stack: list[Any] = [document.get("@context") if isinstance(document, dict) else None]
    while stack:
        context = stack.pop()
        for entry in context if isinstance(context, list) else [context]:
            if not isinstance(entry, dict):
                continue
            if "@context" in entry:  # pyld reads a context {"@context": X} as X
                stack.append(entry["@context"])
            default = entry.get("@protected", False) is True
            for name, definition in entry.items():
                if not isinstance(name, str) or name.startswith("@"):
                    continue
                explicit = definition.get("@protected") if isinstance(definition, dict) else None
                if not protected_only or (explicit is True or (explicit is None and default)):
                    yield name, definition
                if isinstance(definition, dict) and "@context" in definition:
                    stack.append(definition["@context"])


def _comparable(definition: Any) -> Any:
    """A raw term definition without its ``@protected`` flag, ``"iri"`` written as ``{"@id": "iri"}``:
    two definitions JSON-LD would find equal once protected compare equal."""
    if isinstance(definition, str):
        return {"@id": definition}
    if isinstance(definition, dict):
        return {k: v for k, v in definition.items() if k != "@protected"}
    return definition
