"""JSON-LD processing with pinned contexts only, and data-loss detection.

The only JSON-LD contexts this library ever reads are the files pinned in the ``contexts``
package, each checked against the SHA-256 in ``contexts/index.json`` the first time it is
loaded. Anything else raises :class:`~vc.errors.ContextNotPinned`; nothing is fetched.

Every pyld call goes through :func:`expand` and :func:`to_dataset` with the loader passed in
per call and a context cache owned by the loader (pyld's module-wide cache is never used, so
no other loader in the process can poison ours).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import Any, Protocol

from pyld import jsonld as _pyld
from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdProcessor

from .errors import ContextNotPinned, DataLossError, InvalidDocument, ResolutionError

__all__ = [
    "DocumentLoader",
    "PinnedContextLoader",
    "default_loader",
    "expand",
    "to_dataset",
]

RemoteDocument = dict[str, Any]


class DocumentLoader(Protocol):
    """A pyld-compatible document loader: ``loader(url, options) -> remote document``.

    The remote document is ``{"contextUrl": None, "documentUrl": url, "document": <parsed JSON>}``;
    a loader may add ``"tag": "static"`` for documents that never change, which lets the
    context processing result be cached for the life of the loader.
    """

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> RemoteDocument: ...


class PinnedContextLoader:
    """Serves the pinned JSON-LD contexts of the ``contexts`` package, and nothing else.

    Each file's SHA-256 is checked against ``index.json`` when it is first read; a mismatch
    raises :class:`ResolutionError`. Unknown URLs raise :class:`ContextNotPinned` naming the URL.
    Thread-safe; parsed contexts and pyld's processed contexts are kept for the loader's life.
    """

    def __init__(self, index: Mapping[str, tuple[str, str]] | None = None) -> None:
        """``index`` maps URL -> (file name in the contexts package, sha256 hex); default: index.json."""
        self._index = dict(index) if index is not None else _read_index()
        self._documents: dict[str, Any] = {}
        self._lock = threading.Lock()
        # pyld's processed-context cache, private to this loader (see module docstring).
        self.context_cache: dict[str, Any] = {}

    @property
    def urls(self) -> frozenset[str]:
        """The context URLs this loader serves."""
        return frozenset(self._index)

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
            data = resources.files("contexts").joinpath(file_name).read_bytes()
        except (FileNotFoundError, OSError) as e:
            raise ResolutionError(f"pinned context file {file_name!r} for {url!r} is missing") from e
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected_sha256:
            raise ResolutionError(
                f"pinned context {url!r} ({file_name}) has SHA-256 {actual}, expected {expected_sha256}"
            )
        return json.loads(data)


def _read_index() -> dict[str, tuple[str, str]]:
    raw = json.loads(resources.files("contexts").joinpath("index.json").read_bytes())
    return {entry["url"]: (entry["file"], entry["sha256"]) for entry in raw["contexts"]}


_default_loader: PinnedContextLoader | None = None


def default_loader() -> PinnedContextLoader:
    """The process-wide loader of pinned contexts (created on first use, shared so that each
    context is processed once per process)."""
    global _default_loader
    if _default_loader is None:
        _default_loader = PinnedContextLoader()
    return _default_loader


class _ActiveContext(dict):  # type: ignore[type-arg]
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
    of this library (here and in :mod:`vc.fastpath`) goes through it."""

    def _clone_active_context(self, active_ctx: dict[str, Any]) -> dict[str, Any]:
        return _ActiveContext(super()._clone_active_context(active_ctx))


def _options(loader: DocumentLoader) -> dict[str, Any]:
    cache = getattr(loader, "context_cache", None)
    if cache is None:  # a foreign loader: give it a cache of its own for this call only
        cache = {}
    return {
        "documentLoader": loader,
        # VC Data Integrity: the base URL MUST be null, so relative IRIs stay relative and are caught.
        "base": None,
        "contextResolver": ContextResolver(cache, loader),
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
        expanded = Processor(on_property_dropped=on_dropped).expand(dict(document), _options(loader))
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
_PYLD_FAILURES = (_pyld.JsonLdError, TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)


def _translate(error: Exception) -> Exception:
    """Map a pyld error to ours, surfacing a ContextNotPinned raised inside the loader."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ResolutionError):
            return type(cause)(cause.message)
        cause = cause.__cause__ or cause.__context__
    details = getattr(error, "details", None)
    code = getattr(error, "code", None)
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if code:
        text = f"{text} ({code})"
    if isinstance(details, dict) and details:
        text = f"{text}; details: {_short(details)}"
    return InvalidDocument(f"invalid JSON-LD: {text}")


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
    if isinstance(value, str) and (_is_absolute_iri(value) or (blank_ok and value.startswith("_:"))):
        return
    raise DataLossError(
        f"{role} value {value!r} is not an absolute IRI after JSON-LD expansion "
        "(an undefined term or a relative IRI); it would be dropped from the signed data"
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
