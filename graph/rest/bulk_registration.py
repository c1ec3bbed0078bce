"""``POST /devicecontrol/bulkNewDeviceRequests``: bulk registration from a CSV file (§8.3).

``multipart/form-data`` with the part ``file``, as Cumulocity's clients upload it
(``@c8y/client`` streams it chunked, without Content-Length, as
``bulk-registration.csv``). The same service as GraphQL's ``registerCsv``;
the answer is Cumulocity's bulk result, with each failed line's number as a
string of digits, as go-c8y-cli reads it. A raw ``text/csv`` body is taken too.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from graph.http.access import UserLogin
from graph.rest.cumulocity import Paths, RestError, answer, domain_error, validation_error
from graph.services import Services
from resolvers import bulk_registration, errors
from resolvers.bulk_registration import BulkOutcome
from resolvers.permissions import Permission

PATH = "/devicecontrol/bulkNewDeviceRequests"
DOMAIN = "devicecontrol"
KIND = "bulknewdevicerequest"
#: 100,000 lines of Cumulocity's widest format fit easily.
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Room for the multipart boundaries and part headers around the file.
MULTIPART_OVERHEAD = 64 * 1024


def result_body(outcome: BulkOutcome) -> dict[str, Any]:
    """Cumulocity's bulk registration result."""
    failed = [
        {
            "bulkNewDeviceStatus": "FAILED",
            "deviceId": line.id,
            "failureReason": line.problem.message,
            "line": str(line.line),
            "code": line.problem.code,
        }
        for line in outcome.lines
        if line.problem is not None
    ]
    return {
        "numberOfAll": len(outcome.lines),
        "numberOfCreated": outcome.created,
        "numberOfFailed": outcome.failed,
        "numberOfSuccessful": outcome.created,
        "credentialUpdatedList": [],
        "failedCreationList": failed,
    }


async def _read_limited(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise RestError(
            413, "general/Request Entity Too Large", f"the file exceeds {MAX_FILE_BYTES} bytes"
        )
    return data


async def _csv_file(request: Request) -> bytes:
    """The uploaded file's bytes, from the ``file`` part (or a raw ``text/csv`` body)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "text/csv":
        data = await request.body()
        if len(data) > MAX_FILE_BYTES:
            raise RestError(
                413, "general/Request Entity Too Large", f"the file exceeds {MAX_FILE_BYTES} bytes"
            )
        return data
    if media_type != "multipart/form-data":
        raise RestError(
            415,
            "general/Unsupported Media Type",
            "upload the CSV file as multipart/form-data with the part 'file'",
        )
    try:
        async with request.form(max_files=1, max_fields=20) as form:
            part = form.get("file")
            if isinstance(part, UploadFile):
                return await _read_limited(part)
            if isinstance(part, str):
                return part.encode()
    except HTTPException as error:
        raise validation_error(f"the upload cannot be read: {error.detail}") from None
    raise validation_error("the upload has no part named 'file'")


def routes(services: Services) -> list[BaseRoute]:
    paths = Paths(services.gate)

    async def bulk_register(request: Request) -> Response:
        data = await _csv_file(request)
        try:
            outcome = await bulk_registration.register_csv(request.state.actor, data)
        except errors.DomainError as error:
            raise domain_error(error, DOMAIN) from None
        return answer(request, result_body(outcome), KIND, 201)

    admin = UserLogin(Permission.DEVICE_CONTROL_ADMIN)
    return [
        # Its own limit: a file of 100,000 lines in Cumulocity's columns is over 4 MiB. Only
        # an authenticated DEVICE_CONTROL_ADMIN gets this far (the gate checks the login first).
        *paths.route(
            PATH,
            bulk_register,
            access=admin,
            methods=["POST"],
            max_body_bytes=MAX_FILE_BYTES + MULTIPART_OVERHEAD,
        ),
        *paths.other_methods(PATH),
    ]
