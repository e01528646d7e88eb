"""Order reads."""

from __future__ import annotations

from django.db.models import QuerySet

from vigencia.accounts.models import User
from vigencia.core.errors import NotFound
from vigencia.orders.models import RenewalOrder, WalletTopup


def order_list(*, payer: User) -> QuerySet[RenewalOrder]:
    return RenewalOrder.objects.filter(payer=payer).select_related("line", "line__carrier", "plan")


def order_get(*, payer: User, order_id: int) -> RenewalOrder:
    order = order_list(payer=payer).filter(pk=order_id).first()
    if order is None:
        raise NotFound(code="order_not_found")
    return order


def topup_list(*, user: User) -> QuerySet[WalletTopup]:
    return WalletTopup.objects.filter(user=user)
