"""A fast path from JSON-LD to RDFC-1.0 canonical N-Quads for the documents credentials are
made of, with the general path (:func:`reference_canonical_nquads`) as the fallback and the
reference.

The general path expands the document with pyld, converts the expansion to pyld's RDF
dataset, converts that to quads and canonicalizes them. Nearly all of its time goes to pyld
re-deriving, for every document, facts that only depend on the contexts: what a key
expands to, its container and type coercion, and which scoped context a type or property
brings in. This module walks the JSON document once, emitting quads directly, and asks pyld
each of those questions only once per (active context, key), keeping the answers:

* the active context of each distinct ``@context`` list is processed once per loader;
* type-scoped and property-scoped contexts are applied by pyld's own context processing,
  and the resulting active context is kept per (active context, scoped context);
* the key and term facts are read with pyld's own functions, and kept per active context.

The walk follows pyld 3.3's expansion algorithm step for step for the subset trade
credentials use: node objects with ``@id`` and ``@type``, value objects, type coercion to
``@id``, ``@vocab`` and datatypes, default and term languages, ``@set``, ``@list`` and
``@graph`` containers, and type- and property-scoped contexts (with their propagation
rules), with contexts given by URL or inline (an inline object is processed once per
loader and content, like a URL). Anything else (``null`` contexts, ``@reverse``, ``@nest``,
``@included``, ``@json``, index, language, id and type maps, ``@direction``, relative IRIs,
terms the contexts do not define...) raises :class:`Unsupported` internally, and
:func:`canonical_nquads` then runs the general path, which produces the result or the
error. Because any term that expansion would drop or leave relative makes the fast path
give up, a document the fast path converts is one the general path expands without data
loss.

Only :class:`~tradevc.vc.jsonld.PinnedContextLoader` loaders are accelerated: their documents never
change, so what is learnt from them can be kept. The caches are bounded (they are emptied
when they reach :data:`MAX_CACHE_ENTRIES` entries), so verifying any number of documents,
however varied, keeps memory bounded.
"""

from __future__ import annotations

import copy
import math
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import orjson
from pyld.jsonld import JsonLdProcessor
from pyld.jsonld import _is_absolute_iri as _pyld_keeps

from tradevc.vc.jsonld import DocumentLoader, PinnedContextLoader, Processor, _options, to_dataset
from tradevc.vc.rdfc import (
    RDF_LANGSTRING,
    XSD_STRING,
    WorkDeferred,
    _canonicalize_components,
    _checked_iri,
    _LANGUAGE_TAG,
    _quote_literal,
    canonicalize_quads,
    from_pyld_dataset,
    work_deferred_here,
)

__all__ = ["MAX_CACHE_ENTRIES", "canonical_nquads", "fast_jcs", "fast_quads", "reference_canonical_nquads"]

MAX_CACHE_ENTRIES = 20_000
"""Entries (active contexts, key facts, expanded IRIs) kept per loader before the caches are emptied."""

MAX_CONTEXTS = 1_000
"""Active contexts kept per loader before the caches are emptied (each is a copy of its term
definitions, about 14 KB with the VC 2.0 and traceability contexts: at most about 14 MB;
trade credentials need a few dozen)."""

XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
RDF_FIRST = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#first>"
RDF_REST = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>"
RDF_NIL = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"

_Quad = tuple[str, str, str, str]


class Unsupported(Exception):
    """The fast path does not handle this document; use the general path."""


def reference_canonical_nquads(
    document: Mapping[str, Any], *, loader: DocumentLoader, hash_name: str = "sha256", max_work: int | None = None
) -> str:
    """The general path: lossless pyld expansion, pyld's RDF conversion, RDFC-1.0.

    :raises DataLossError, ContextNotPinned, InvalidDocument: see :func:`tradevc.vc.jsonld.to_dataset`.
    :raises CanonicalizationError: invalid RDF, or the canonicalization work limit was exceeded.
    """
    return canonicalize_quads(
        from_pyld_dataset(to_dataset(document, loader)), hash_algorithm=hash_name, max_work=max_work
    )


def canonical_nquads(
    document: Mapping[str, Any], *, loader: DocumentLoader, hash_name: str = "sha256", max_work: int | None = None
) -> str:
    """RDFC-1.0 canonical N-Quads of ``document``: the fast path when it handles the document,
    else :func:`reference_canonical_nquads`. Both give the same bytes and the same errors.
    """
    quads = fast_quads(document, loader)
    if quads is None:
        if work_deferred_here():  # pyld's expansion takes milliseconds: not where work is deferred
            raise WorkDeferred("the general JSON-LD path is not taken here")
        return reference_canonical_nquads(document, loader=loader, hash_name=hash_name, max_work=max_work)
    return _canonicalize_components(quads, hash_name, max_work)[0]


def fast_quads(document: Mapping[str, Any], loader: DocumentLoader) -> list[_Quad] | None:
    """The quads of ``document`` (serialized subject, predicate, object, graph name; ``""`` for
    the default graph) by the fast path, or ``None`` when the fast path does not handle it
    (the general path then decides: a result or an error). A non-``None`` result means that
    expansion keeps every term."""
    if not isinstance(loader, PinnedContextLoader) or not isinstance(document, Mapping):
        return None
    try:
        fingerprint: bytes | None = orjson.dumps(document, option=_FINGERPRINT)
    except (orjson.JSONEncodeError, RecursionError):
        fingerprint = None
    last = getattr(_last, "entry", None)
    if (
        fingerprint is not None and last is not None and last[0] is loader and last[1] == fingerprint
        and _json_only(document)
    ):
        return list(last[2])
    try:
        quads = _Walk(_cache_for(loader)).document(document)
    except Exception:  # noqa: BLE001 - anything unexpected: the general path decides
        return None
    if fingerprint is not None:
        _last.entry = (loader, fingerprint, tuple(quads))
    return quads


# The last conversion of this thread: verifying a credential converts the same unsecured
# document twice (the data_loss check, then the proof's transformation); equal JSON text
# means equal quads, so the second conversion is a comparison. The text is orjson's, with
# sorted keys, which tells apart what JSON tells apart (1, 1.0 and true; key order does not
# matter to JSON-LD). It refuses datetimes, dataclasses and subclasses of str, int, dict and
# list (then nothing is remembered); the other Python objects orjson writes as JSON (UUIDs,
# enumerations) are not JSON, and NaN is written as null, so a remembered result is used
# only for plain JSON values.
_last = threading.local()
_FINGERPRINT = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _json_only(value: Any) -> bool:
    """Whether ``value`` holds nothing but dicts, lists, strings, integers, finite floats,
    booleans and None (orjson writes NaN and infinities as null, tuples as lists, datetimes as
    strings: what is keyed by its orjson text must be plain JSON; tradevc.vc.checks.schemas uses it too)."""
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is float:
            if not math.isfinite(item):
                return False
        elif (kind is not dict and kind is not list) or not _json_only(item):
            return False
    return True


_caches: weakref.WeakKeyDictionary[PinnedContextLoader, _ContextCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_for(loader: PinnedContextLoader) -> _ContextCache:
    cache = _caches.get(loader)
    if cache is None:
        with _caches_lock:
            cache = _caches.get(loader)
            if cache is None:
                cache = _caches[loader] = _ContextCache(loader)
    return cache


class _Key:
    """What pyld's expansion needs to know about one key of a node object in one active context."""

    __slots__ = (
        "keyword", "iri", "term_ctx", "list_container", "graph_container", "coercion", "language",
        "direction", "value_scoped_ctx", "array_in_list",
    )

    def __init__(self) -> None:
        self.keyword: str | None = None
        self.iri = ""
        self.term_ctx: dict[str, Any] = {}
        self.list_container = False
        self.graph_container = False
        self.coercion: Any = None
        self.language: Any = None
        self.direction: Any = None
        self.value_scoped_ctx: Any = None
        self.array_in_list = False


class _ContextCache:
    """Active contexts and key facts learnt from one loader, with pyld as the oracle.

    Entries are keyed by ``id(active context)`` and hold a reference to that context, so an
    id cannot be reused while its entry exists. Emptying replaces the dictionaries whole, so
    readers in other threads never see a half-emptied cache.
    """

    def __init__(self, loader: PinnedContextLoader) -> None:
        self.processor = Processor()
        self.options = {
            **_options(loader),
            "isFrame": False,
            "keepFreeFloatingNodes": False,
            "extractAllScripts": False,
            "processingMode": "json-ld-1.1",
        }
        self.rdf_options = {"processingMode": "json-ld-1.1", "rdfDirection": None}
        self._clear()

    def _clear(self) -> None:
        # The resolver lasts as long as this cache, and keeps each inline context it resolved
        # in its per-operation cache (see tradevc.vc.jsonld._Resolver): emptied with the rest, or every
        # distinct inline context ever verified would stay in memory.
        self.options["contextResolver"].per_op_cache = {}
        self._roots: dict[tuple[str, ...], dict[str, Any]] = {}
        self._nested: dict[tuple[int, tuple[str, ...]], tuple[Any, dict[str, Any]]] = {}
        self._scoped: dict[tuple[int, int, bool, bool], tuple[Any, Any, dict[str, Any]]] = {}
        self._keys: dict[tuple[int, str], tuple[Any, _Key]] = {}
        self._iris: dict[tuple[int, str, bool], tuple[Any, str | None]] = {}
        self._entries = 0
        self._contexts = 0

    def _count(self, *, context: bool = False) -> None:
        self._entries += 1
        if context:
            self._contexts += 1
        if (
            self._entries > MAX_CACHE_ENTRIES or self._contexts > MAX_CONTEXTS
            or len(self.options["contextResolver"].per_op_cache) > MAX_CACHE_ENTRIES
        ):
            self._clear()

    def root(self, context: Any) -> dict[str, Any]:
        """The active context after processing a document's top-level ``@context``."""
        key = _context_key(context)
        ctx = self._roots.get(key)
        if ctx is None:
            initial = self.processor._get_initial_context(self.options)
            ctx = self.processor._process_context(initial, _private(context, key), self.options)
            self._count(context=True)
            self._roots[key] = ctx
        return ctx

    def nested(self, ctx: dict[str, Any], context: Any) -> dict[str, Any]:
        """``ctx`` with the ``@context`` of a nested node object applied, e.g. a credential
        inside a presentation."""
        urls = _context_key(context)
        key = (id(ctx), urls)
        entry = self._nested.get(key)
        if entry is None:
            entry = (ctx, self.processor._process_context(ctx, _private(context, urls), self.options))
            self._count(context=True)
            self._nested[key] = entry
        return entry[1]

    def scoped(self, ctx: dict[str, Any], local: Any, *, propagate: bool, override_protected: bool) -> dict[str, Any]:
        """``ctx`` with a scoped context ``local`` (from a term definition of ``ctx``) applied."""
        key = (id(ctx), id(local), propagate, override_protected)
        entry = self._scoped.get(key)
        if entry is None:
            result = self.processor._process_context(
                ctx, local, self.options, propagate=propagate, override_protected=override_protected
            )
            entry = (ctx, local, result)
            self._count(context=True)
            self._scoped[key] = entry
        return entry[2]

    def iri(self, ctx: dict[str, Any], value: str, vocab: bool) -> str | None:
        """pyld's IRI expansion of ``value`` in ``ctx`` (``vocab``: as a term/type, else as an @id)."""
        key = (id(ctx), value, vocab)
        entry = self._iris.get(key)
        if entry is None:
            if vocab:
                result = self.processor._expand_iri(ctx, value, vocab=True, base=self.options["base"])
            else:
                result = self.processor._expand_iri(ctx, value, base=self.options["base"])
            entry = (ctx, result)
            self._count()
            self._iris[key] = entry
        return entry[1]

    def key(self, ctx: dict[str, Any], key: str) -> _Key:
        """The facts about ``key`` in ``ctx`` (see :class:`_Key`)."""
        entry = self._keys.get((id(ctx), key))
        if entry is None:
            entry = (ctx, self._learn(ctx, key))
            self._count()
            self._keys[(id(ctx), key)] = entry
        return entry[1]

    def _learn(self, ctx: dict[str, Any], key: str) -> _Key:
        get = JsonLdProcessor.get_context_value
        info = _Key()
        if ":" in key:
            # a property written as an IRI or a compact IRI rather than as a term: left to the
            # general path, where a document under an RDFC proof is refused for it (see
            # tradevc.vc.jsonld.refuse_hidden_properties), so a document this path converts has none
            raise Unsupported("property written as an IRI")
        expanded = self.iri(ctx, key, True)
        if expanded is None:
            raise Unsupported("undefined term")
        if expanded.startswith("@"):
            if expanded not in ("@id", "@type", "@value", "@language", "@context"):
                raise Unsupported(f"keyword {expanded}")
            info.keyword = expanded
            return info
        if expanded.startswith("_:"):
            raise Unsupported("blank node property")
        if not _pyld_keeps(expanded):
            raise Unsupported("property IRI pyld would drop")
        info.iri = "<" + _checked_iri(expanded) + ">"
        term_ctx = ctx
        scoped = get(ctx, key, "@context")
        if scoped is not None:
            term_ctx = self.scoped(ctx, scoped, propagate=True, override_protected=True)
        info.term_ctx = term_ctx
        container = _containers(get(ctx, key, "@container"))
        # pyld reads the container in the active context, except for "is this array a list",
        # read in the term's scoped context (verifiableCredential's "@context": null empties it).
        if ("@list" in _containers(get(term_ctx, key, "@container"))) != ("@list" in container):
            raise Unsupported("list container changed by a scoped context")
        container.discard("@set")
        if container == {"@list"}:
            info.list_container = True
        elif container == {"@graph"}:
            info.graph_container = True
        elif container:
            raise Unsupported(f"container {sorted(container)}")
        if get(ctx, key, "@type") == "@json":
            raise Unsupported("@json")
        mapping = term_ctx["mappings"].get(key)
        if mapping and mapping.get("reverse"):
            raise Unsupported("reverse property")
        in_term_ctx = self.iri(term_ctx, key, True)
        if in_term_ctx is not None and in_term_ctx.startswith("@"):
            raise Unsupported("key made a keyword by its own scoped context")
        info.coercion = get(term_ctx, key, "@type")
        if info.coercion in ("@json", "@none"):
            raise Unsupported(f"coercion {info.coercion}")
        info.language = get(term_ctx, key, "@language")
        info.direction = get(term_ctx, key, "@direction")
        info.value_scoped_ctx = get(term_ctx, key, "@context")
        return info


_Unset = object()


class _Walk:
    """One document's conversion: mirrors pyld's ``_expand`` and ``_expand_object`` for the
    supported subset, then the node map and RDF conversion, emitting quads as it goes."""

    def __init__(self, cache: _ContextCache) -> None:
        self.cache = cache
        self.quads: list[_Quad] = []
        self._blank_labels: dict[str, str] = {}
        self._next_blank = 0

    # -- terms ----------------------------------------------------------------------------

    def blank(self) -> str:
        self._next_blank += 1
        return f"_:f{self._next_blank}"

    def node_id(self, iri: str | None) -> str:
        """The serialized form of an expanded ``@id`` (IRI or blank node)."""
        if not isinstance(iri, str) or not _pyld_keeps(iri):
            # pyld's RDF conversion silently drops a triple whose IRI or blank node label
            # holds whitespace (in Unicode's sense: U+0085, U+00A0, U+2028...)
            raise Unsupported("IRI pyld would drop")
        if iri.startswith("_:"):
            label = self._blank_labels.get(iri)
            if label is None:
                label = self._blank_labels[iri] = self.blank()
            return label
        return "<" + _checked_iri(iri) + ">"

    def literal(self, value: Any, datatype: str | None, language: str | None) -> str:
        """A literal as pyld's ``_object_to_rdf`` makes it, serialized."""
        if isinstance(value, str) and datatype != XSD_DOUBLE:
            if language is not None:
                if not isinstance(language, str) or not _LANGUAGE_TAG.fullmatch(language):
                    raise Unsupported("language tag")
                return f"{_quote_literal(value)}@{language}"
            if datatype is None or datatype == XSD_STRING:
                return _quote_literal(value)
            return f"{_quote_literal(value)}^^<{_checked_datatype(datatype)}>"
        if isinstance(value, (bool, int, float)) and language is None:
            item: dict[str, Any] = {"@value": value}
            if datatype is not None:
                item["@type"] = datatype
            rdf = self.cache.processor._object_to_rdf(item, None, [], self.cache.rdf_options)
            lexical, dt = rdf["value"], rdf["datatype"]
            if not isinstance(lexical, str):
                raise Unsupported("non-string lexical form")
            if dt == XSD_STRING:
                return _quote_literal(lexical)
            if dt == RDF_LANGSTRING:
                raise Unsupported("language string without language")
            return f"{_quote_literal(lexical)}^^<{_checked_datatype(dt)}>"
        raise Unsupported("literal")

    # -- expansion ------------------------------------------------------------------------

    def document(self, document: Mapping[str, Any]) -> list[_Quad]:
        if "@context" not in document:
            raise Unsupported("no @context")
        ctx = self.cache.root(document["@context"])
        self.node(ctx, document, "", top=True)
        return self.quads

    def node_context(self, term_ctx: dict[str, Any], info: _Key, element: Mapping[str, Any]) -> dict[str, Any]:
        """pyld ``_expand`` for a map value of a property: revert a non-propagated type-scoped
        context, then apply the property-scoped context."""
        cache = self.cache
        active = term_ctx
        must_revert = True
        if term_ctx.get("previousContext") and len(element) <= 2 and "@context" not in element:
            for key in sorted(element):
                expanded = cache.iri(term_ctx, key, True)
                if expanded == "@value" or (expanded == "@id" and len(element) == 1):
                    must_revert = False
                    break
        if must_revert and "previousContext" in active:
            active = active["previousContext"]
        if info.value_scoped_ctx is not None:
            active = cache.scoped(active, info.value_scoped_ctx, propagate=True, override_protected=True)
        return active

    def node(
        self, active: dict[str, Any], element: Mapping[str, Any], graph: str, *, top: bool = False
    ) -> str | None:
        """Expand the map ``element`` in ``active`` and emit its quads into ``graph``; return the
        serialized object for a reference to it (``None``: it expands to nothing)."""
        cache = self.cache
        if not top and "@context" in element:
            active = cache.nested(active, element["@context"])
        # _prepare_nested_context: type-scoped contexts, looked up in the context on input.
        type_scoped = active
        keys: list[tuple[str, _Key, Any]] = []
        for key in sorted(element):
            if key == "@context":
                continue
            if not isinstance(key, str):
                raise Unsupported("key")
            if cache.iri(active, key, True) == "@type":
                declared = element[key]
                declared_types = declared if isinstance(declared, list) else [declared]
                for type_ in sorted(t for t in declared_types if isinstance(t, str)):
                    scoped = JsonLdProcessor.get_context_value(type_scoped, type_, "@context")
                    if scoped is not None and scoped is not False:
                        active = cache.scoped(active, scoped, propagate=False, override_protected=False)
        for key in sorted(element):
            if key == "@context":
                continue
            keys.append((key, cache.key(active, key), element[key]))

        seen: set[str] = set()
        subject_iri: Any = _Unset
        types: list[str | None] = []  # None: a type that expands to nothing
        value: Any = _Unset
        value_type: Any = None
        language: Any = None
        properties: list[tuple[str, _Key, Any]] = []
        for key, info, item in keys:
            keyword = info.keyword
            if keyword is None:
                properties.append((key, info, item))
                continue
            if keyword == "@context":
                raise Unsupported("@context alias")
            if keyword in seen and keyword != "@type":
                raise Unsupported("colliding keywords")
            seen.add(keyword)
            if keyword == "@id":
                if not isinstance(item, str):
                    raise Unsupported("@id value")
                subject_iri = cache.iri(active, item, False)
            elif keyword == "@type":
                for type_ in item if isinstance(item, list) else [item]:
                    if not isinstance(type_, str):
                        raise Unsupported("@type value")
                    types.append(cache.iri(type_scoped, type_, True))
                if not isinstance(item, list):
                    value_type = item
            elif keyword == "@value":
                value = item
            elif keyword == "@language":
                if not isinstance(item, str):
                    raise Unsupported("@language value")
                language = item.lower()

        if value is not _Unset:  # a value object
            if properties or subject_iri is not _Unset or top:
                raise Unsupported("value object shape")
            if value is None:
                return None
            datatype = None
            if "@type" in seen:
                if not isinstance(value_type, str) or language is not None:
                    raise Unsupported("value object @type")
                datatype = types[0]
                if datatype is None or datatype.startswith(("@", "_:")):
                    raise Unsupported("value object datatype")
            elif language is not None and not isinstance(value, str):
                raise Unsupported("language-tagged non-string")
            if isinstance(value, (dict, list)):
                raise Unsupported("@value object or array")
            return self.literal(value, datatype, language)
        if language is not None:
            raise Unsupported("@language outside a value object")

        subject = self.blank() if subject_iri is _Unset else self.node_id(subject_iri)
        for type_iri in types:
            self.quads.append((subject, RDF_TYPE, self.node_id(type_iri), graph))
        for key, info, item in properties:
            self.property(subject, active, key, info, item, graph)
        return subject

    def property(self, subject: str, active: dict[str, Any], key: str, info: _Key, item: Any, graph: str) -> None:
        """Expand one property's value and emit its quads (pyld ``_expand_object`` plus the
        node map and RDF conversion of the values)."""
        if item is None:
            return
        if info.graph_container:
            for entry in item if isinstance(item, list) else [item]:
                if entry is None:
                    continue
                if not isinstance(entry, Mapping):
                    raise Unsupported("graph container value")
                name = self.blank()
                self.value(info.term_ctx, info, entry, name, inside_list=False)
                self.quads.append((subject, info.iri, name, graph))
            return
        if info.list_container:
            objects = self.values(info.term_ctx, info, item, graph, inside_list=True)
            if objects is None:
                return
            self.quads.append((subject, info.iri, self.rdf_list(objects, graph), graph))
            return
        objects = self.values(info.term_ctx, info, item, graph, inside_list=False)
        if objects:
            iri = info.iri
            for object_ in objects:
                self.quads.append((subject, iri, object_, graph))

    def values(
        self, term_ctx: dict[str, Any], info: _Key, item: Any, graph: str, *, inside_list: bool
    ) -> list[str] | None:
        """The serialized objects of a property value; ``None`` when a non-array value expands
        to nothing."""
        if isinstance(item, list):
            objects = []
            for entry in item:
                if isinstance(entry, list):
                    raise Unsupported("array in array")
                if entry is None:
                    continue
                object_ = self.value(term_ctx, info, entry, graph, inside_list=inside_list)
                if object_ is not None:
                    objects.append(object_)
            return objects
        object_ = self.value(term_ctx, info, item, graph, inside_list=inside_list)
        return None if object_ is None else [object_]

    def value(self, term_ctx: dict[str, Any], info: _Key, item: Any, graph: str, *, inside_list: bool) -> str | None:
        """One value of a property: a map (node or value object) or a scalar (pyld ``_expand_value``)."""
        if isinstance(item, Mapping):
            return self.node(self.node_context(term_ctx, info, item), item, graph)
        if isinstance(item, list):
            raise Unsupported("array in array")
        coercion = info.coercion
        if isinstance(item, str):
            if coercion == "@id":
                return self.node_id(self.cache.iri(term_ctx, item, False))
            if coercion == "@vocab":
                return self.node_id(self.cache.iri(term_ctx, item, True))
        if coercion is not None and coercion not in ("@id", "@vocab"):
            return self.literal(item, coercion, None)
        if isinstance(item, str):
            if info.direction is not None:
                raise Unsupported("@direction")
            return self.literal(item, None, info.language)
        return self.literal(item, None, None)

    def rdf_list(self, objects: list[str], graph: str) -> str:
        """Emit an RDF collection of ``objects``; return its head."""
        if not objects:
            return RDF_NIL
        head = node = self.blank()
        for index, object_ in enumerate(objects):
            self.quads.append((node, RDF_FIRST, object_, graph))
            if index + 1 < len(objects):
                following = self.blank()
                self.quads.append((node, RDF_REST, following, graph))
                node = following
            else:
                self.quads.append((node, RDF_REST, RDF_NIL, graph))
        return head


_JCS_INT_MAX = 2**53 - 1


def fast_jcs(value: Any) -> bytes | None:
    """The JCS (RFC 8785) serialization of ``value`` by ``orjson``, or ``None`` when that
    might differ from JCS (the caller then uses the ``rfc8785`` package).

    For objects, arrays, strings, integers within +-(2**53 - 1), booleans and null, JCS is
    what ``orjson`` writes with sorted keys: compact, UTF-8, the same escapes
    (``\\b \\t \\n \\f \\r \\" \\\\``, other controls as lowercase ``\\u00xx``, nothing
    else) and the same key order, as long as no key holds a character beyond U+FFFF (JCS
    sorts by UTF-16 code units, orjson by code points). Non-integral floating-point numbers
    that Python's ``repr`` writes in fixed notation are written alike too. Everything else
    (other floats, whose ECMAScript form may differ, larger integers, lone surrogates,
    non-string keys, Python objects that are not JSON) is left to ``rfc8785``.

    ``orjson`` writes the reference credential about ten times faster than the standard
    library's encoder with ``sort_keys``; :func:`_jcs_exact` decides what it may write.
    """
    try:
        if not _jcs_exact(value):
            return None
        return orjson.dumps(value, option=_ORJSON_JCS)
    except (orjson.JSONEncodeError, RecursionError):
        return None


_ORJSON_JCS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _jcs_exact(value: Any) -> bool:
    """Whether the standard library's JSON encoder writes ``value`` exactly as JCS (see
    :func:`fast_jcs`)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (not key.isascii() and any(ord(c) > 0xFFFF for c in key)):
                return False
            if type(item) is not str and not _jcs_exact(item):
                return False
        return True
    if kind is list:
        for item in value:
            if type(item) is not str and not _jcs_exact(item):
                return False
        return True
    if kind is int:
        in_range: bool = -_JCS_INT_MAX <= value <= _JCS_INT_MAX
        return in_range
    if kind is float:
        # Python's repr and ECMAScript's Number::toString pick the same shortest digits;
        # they write them alike in fixed notation, which repr uses for non-integral values
        # from 1e-4 to 1e16 (ECMAScript: 1e-7 to 1e21).
        text = repr(value)
        return not value.is_integer() and "e" not in text and "n" not in text
    return False


def _context_key(context: Any) -> tuple[Any, ...]:
    """What identifies an ``@context`` value in the caches: its URLs, and for each inline
    context object its JSON text with sorted keys (its content, whatever the key order)."""
    entries = context if isinstance(context, list) else [context]
    key: list[Any] = []
    for entry in entries:
        if isinstance(entry, str):
            key.append(entry)
        elif type(entry) is dict and _json_only(entry):
            key.append((orjson.dumps(entry, option=orjson.OPT_SORT_KEYS),))
        else:
            raise Unsupported("null or non-JSON context")
    return tuple(key)


def _private(context: Any, key: tuple[Any, ...]) -> Any:
    """``context`` to process and keep: inline objects copied, so that a processed context in
    the caches never refers to (and changes with) the caller's document."""
    return context if all(type(k) is str for k in key) else copy.deepcopy(context)


def _containers(value: Any) -> set[str]:
    return set() if value is None else set(JsonLdProcessor.arrayify(value))


def _checked_datatype(datatype: Any) -> str:
    if not isinstance(datatype, str) or datatype.startswith(("@", "_:")) or not _pyld_keeps(datatype):
        raise Unsupported("datatype")
    return _checked_iri(datatype)
