"""/api/v1/lines: the caller's lines, their deadlines and their history."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from vigencia.accounts.auth import api_user, bearer
from vigencia.catalog.selectors import carrier_get
from vigencia.core.errors import InvalidInput
from vigencia.core.schemas import ErrorOut
from vigencia.lines.models import Line, LineEvent
from vigencia.lines.schemas import LineEventOut, LineIn, LineOut, LinePagination, LinePatch
from vigencia.lines.selectors import line_events, line_get, line_list
from vigencia.lines.services import line_add, line_remove, line_update

router = Router(tags=["lines"], auth=bearer)

_AUTH = {401: ErrorOut}
_ONE = {**_AUTH, 404: ErrorOut}


@router.post(
    "",
    response={201: LineOut, **_AUTH, 409: ErrorOut, 422: ErrorOut},
    summary="Register a line",
    description=(
        "422 `invalid_msisdn`, `msisdn_wrong_country` (the number is not of the carrier's country), "
        "`invalid_iccid`, `invalid_nickname`, `invalid_date`, `unknown_carrier` or `invalid` "
        "(malformed body); 409 `line_exists` if the caller already registered the number."
    ),
)
def line_create(request: HttpRequest, payload: LineIn) -> Status[Line]:
    carrier = carrier_get(code=payload.carrier)
    if carrier is None:
        raise InvalidInput(_("Unknown carrier."), code="unknown_carrier", details={"field": "carrier"})
    line = line_add(
        owner=api_user(request),
        msisdn=payload.msisdn,
        carrier=carrier,
        nickname=payload.nickname,
        iccid=payload.iccid,
        last_recharge_at=payload.last_recharge_at,
        valid_until=payload.valid_until,
    )
    return Status(201, line)


@router.get(
    "",
    response={200: list[LineOut], **_AUTH},
    summary="The caller's lines, the nearest deadline first",
)
@paginate(LinePagination)
def lines(request: HttpRequest) -> QuerySet[Line]:
    return line_list(owner=api_user(request))


@router.get("/{int:line_id}", response={200: LineOut, **_ONE}, summary="One line")
def line_detail(request: HttpRequest, line_id: int) -> Line:
    return line_get(owner=api_user(request), line_id=line_id)


@router.patch(
    "/{int:line_id}",
    response={200: LineOut, **_ONE, 422: ErrorOut},
    summary="Change a line's nickname, ICCID or dates",
    description=(
        "Only the fields sent change; `null` clears one. 422 `not_editable` for `msisdn`, `carrier` "
        "or any other field, and the errors of POST for bad values."
    ),
)
def line_change(request: HttpRequest, line_id: int, payload: LinePatch) -> Line:
    user = api_user(request)
    line = line_get(owner=user, line_id=line_id)
    return line_update(line=line, actor=user, **payload.model_dump(exclude_unset=True))


@router.delete(
    "/{int:line_id}",
    response={204: None, **_ONE},
    summary="Remove a line from the list",
    description="The line's history and orders are kept; the number may be added again later.",
)
def line_delete(request: HttpRequest, line_id: int) -> Status[None]:
    user = api_user(request)
    line_remove(line=line_get(owner=user, line_id=line_id), actor=user)
    return Status(204, None)


@router.get(
    "/{int:line_id}/events",
    response={200: list[LineEventOut], **_ONE},
    summary="A line's history, newest first",
)
@paginate(LinePagination)
def line_history(request: HttpRequest, line_id: int) -> QuerySet[LineEvent]:
    return line_events(line=line_get(owner=api_user(request), line_id=line_id))
