"""Fulfilment endpoints: the gateway's signed status callbacks."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from vigencia.core.signing import SIGNATURE_HEADER
from vigencia.fulfilment.services import fulfilment_callback_receive

router = Router(tags=["fulfilment"])


class CallbackOut(Schema):
    external_id: str
    status: str


@router.post(
    "/callbacks/{gateway}", response=CallbackOut, auth=None, summary="Status callback from a carrier gateway"
)
def callback(request: HttpRequest, gateway: str) -> CallbackOut:
    """Signed with `Vigencia-Signature: t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">`. Bad signature: 400."""
    transaction = fulfilment_callback_receive(
        gateway_name=gateway, body=request.body, signature=request.headers.get(SIGNATURE_HEADER, "")
    )
    return CallbackOut(external_id=transaction.external_id, status=transaction.status)
