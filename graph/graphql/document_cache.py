"""Parsing and validating a repeated operation once.

Clients send the same few operations again and again (the console's page of
registrations, a poller's query). Parsing and validating the document was
about a tenth of a 500-row page in the profile, and all of a small query's
GraphQL cost. This extension keeps the parsed document of each operation text
that parsed and validated without an error, and hands it to the next request
with the same text, which then skips both steps.

Only what cannot change the answer is skipped: validation depends on the
document and the schema's rules alone (fixed for a schema; the cache belongs to
one schema), never on variables or the caller. The request guards
(``graph/graphql/guards.py``) still run on every request, before this
extension: a document refused for its length, its variables or its literals is
refused as before, and a document with any error is never kept, so errors are
found and reported by the usual steps, every time. Entries are few and small
(:data:`MAX_ENTRIES` texts of at most :data:`MAX_TEXT_LENGTH` characters, least
recently used dropped first), so unique documents cannot grow memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

MAX_ENTRIES = 128
#: Longer operation texts are parsed and validated every time (no client's operation
#: is that long; large values belong in variables).
MAX_TEXT_LENGTH = 10_000


class Documents:
    """Valid documents by operation text, least recently used dropped first."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self.size = size
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def get(self, text: str) -> DocumentNode | None:
        document = self._documents.get(text)
        if document is not None:
            self._documents.move_to_end(text)
        return document

    def keep(self, text: str, document: DocumentNode) -> None:
        if len(text) > MAX_TEXT_LENGTH:
            return
        self._documents[text] = document
        self._documents.move_to_end(text)
        while len(self._documents) > self.size:
            self._documents.popitem(last=False)

    def __len__(self) -> int:
        return len(self._documents)


class CachedDocuments(SchemaExtension):
    """Skips parsing and validation for an operation text already found valid (module doc).

    One instance per request (strawberry's extension factories); ``documents``
    is the schema's, shared by all of them.
    """

    def __init__(self, *, documents: Documents) -> None:
        self.documents = documents
        self._known = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # A document already set (the guards' stand-in for a refused one) is left alone.
        if context.graphql_document is None and context.query is not None:
            found = self.documents.get(context.query)
            if found is not None:
                context.graphql_document = found
                self._known = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self._known and context.pre_execution_errors is None:
            # Valid before under the same rules; an error set by a guard that ran before
            # this extension (variables, literals) is kept and answered as usual.
            context.pre_execution_errors = []
        yield
        document = context.graphql_document
        if (
            not self._known
            and context.pre_execution_errors == []
            and document is not None
            and context.query is not None
        ):
            self.documents.keep(context.query, document)
