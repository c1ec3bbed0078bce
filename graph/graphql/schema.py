"""The strawberry schema: every domain's queries and mutations, and the endpoint's guards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from graph.graphql.bulk import BulkMutations
from graph.graphql.compiled_lists import CompiledListExecution
from graph.graphql.devices import DeviceMutations
from graph.graphql.document_cache import CachedDocuments, Documents
from graph.graphql.errors import ClientErrors, log_errors
from graph.graphql.events import EventQueries, Subscription
from graph.graphql.groups import GroupMutations, GroupQueries
from graph.graphql.guards import RequestGuards
from graph.graphql.options import OptionMutations, OptionQueries
from graph.graphql.registrations import RegistrationMutations, RegistrationQueries
from graph.graphql.tenants import TenantMutations, TenantQueries
from graph.graphql.users import UserMutations, UserQueries
from graph.graphql.webhooks import WebhookMutations, WebhookQueries
from graph.settings import Settings

Query = merge_types(
    "Query",
    (
        UserQueries,
        TenantQueries,
        RegistrationQueries,
        GroupQueries,
        OptionQueries,
        EventQueries,
        WebhookQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        RegistrationMutations,
        OptionMutations,
        GroupMutations,
        TenantMutations,
        UserMutations,
        DeviceMutations,
        BulkMutations,
        WebhookMutations,
    ),
)


class GatehouseSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)


def build_schema(settings: Settings | None = None) -> GatehouseSchema:
    """The schema with the guards ``settings`` ask for.

    By default every guard is on and introspection is allowed.
    """
    settings = settings or Settings()
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ClientErrors,
        _factory(RequestGuards, max_document_length=settings.max_document_length),
        _factory(QueryDepthLimiter, max_depth=settings.max_query_depth),
        _factory(MaxTokensLimiter, max_token_count=settings.max_tokens),
        _factory(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    # Last: the guards above run on every request, cached document or not.
    extensions.append(_factory(CachedDocuments, documents=Documents()))
    return GatehouseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=True),
        execution_context_class=CompiledListExecution,
    )


def _factory(cls: Callable[..., SchemaExtension], **kwargs: Any) -> Callable[[], SchemaExtension]:
    def make() -> SchemaExtension:
        return cls(**kwargs)

    return make
