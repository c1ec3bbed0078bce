"""GraphQL for bulk registration: ``registerCsv`` (API.md §8.3).

The same service as ``POST /devicecontrol/bulkNewDeviceRequests``
(``resolvers/bulk_registration.py``); the names of the result are the
contract's, which the console's "Bulk registration" dialog reads.
"""

from __future__ import annotations

import strawberry

from graph.graphql.context import Info
from graph.graphql.permissions import can
from graph.graphql.registrations import DeviceProblem, PreloadedGroups, Registration, preload_groups
from resolvers import bulk_registration
from resolvers.permissions import Permission


@strawberry.type
class BulkRegisterLine:
    line: int
    id: str | None
    problem: DeviceProblem | None
    outcome: strawberry.Private[bulk_registration.BulkLine]
    groups: strawberry.Private[PreloadedGroups]

    @strawberry.field(description="The registration this line created; null when it failed.")
    def registration(self) -> Registration | None:
        created = self.outcome.registration()
        return Registration.from_model(created, self.groups) if created else None


@strawberry.type
class BulkRegisterResult:
    created: int
    failed: int
    lines: list[BulkRegisterLine]


@strawberry.type
class BulkMutations:
    @strawberry.mutation(
        permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)],
        description="Register the devices of a CSV file (Cumulocity's bulk registration "
        "format), each line on its own: good lines are registered, bad ones fail with "
        "their line number (the header is line 1) and problem.",
    )
    async def register_csv(self, info: Info, csv: str) -> BulkRegisterResult:
        outcome = await bulk_registration.register_csv(info.context.caller, csv)
        groups = await preload_groups(outcome.lines, info)
        return BulkRegisterResult(
            created=outcome.created,
            failed=outcome.failed,
            lines=[
                BulkRegisterLine(
                    line=line.line,
                    id=line.id or None,
                    problem=DeviceProblem.from_error(line.problem) if line.problem else None,
                    outcome=line,
                    groups=groups,
                )
                for line in outcome.lines
            ],
        )
