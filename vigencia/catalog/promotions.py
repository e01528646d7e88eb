"""Promotions: what a code (or an automatic campaign) gives on a renewal, and its use, reserved and
given back exactly under concurrency.

The order pipeline (`orders.services.order_create`) asks `promotion_for_order` for a quote, reserves
it with `promotion_reserve` in the order's own transaction, and calls `promotion_release` when the
order is canceled or refunded. The limits are counters moved by conditional UPDATEs
(`... SET uses_count = uses_count + 1 WHERE uses_count < max_uses`): a second checkout racing for the
last use waits on the row lock, then finds the limit reached and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan, Promotion, PromotionAudience, PromotionKind, PromotionUse
from vigencia.core import clock
from vigencia.core.errors import InvalidInput
from vigencia.core.money import Money

MAX_CODE_LENGTH = 40


class PromotionNotApplicable(InvalidInput):
    """422 with a code that names the reason (promo_expired, promo_other_carrier, ...)."""

    code = "promo_not_applicable"


@dataclass(frozen=True)
class PromotionQuote:
    promotion: Promotion
    discount: Money
    bonus_data_mb: int
    extra_days: int


def promo_code_normalize(code: str) -> str:
    return "".join((code or "").split()).upper()


def _refuse(code: str, message: str, promotion_code: str) -> PromotionNotApplicable:
    return PromotionNotApplicable(message, code=code, details={"promo_code": promotion_code})


def _discount(promotion: Promotion, price: Money) -> Money:
    if promotion.kind == PromotionKind.PERCENT_OFF:
        # Half up, in integers: 20% of S/ 10.05 is S/ 2.01.
        return Money((price.amount_minor * (promotion.percent_off or 0) + 50) // 100, price.currency)
    if promotion.kind == PromotionKind.FIXED_OFF:
        return Money(promotion.amount_off_minor or 0, promotion.currency)
    return Money.zero(price.currency)


def promotion_check(
    *, promotion: Promotion, plan: Plan, channel: str, first_renewal: bool, at: datetime | None = None
) -> PromotionQuote:
    """What `promotion` gives on `plan` bought through `channel`, or PromotionNotApplicable naming
    why not (inactive, not started, expired, other carrier/plan/channel, new or existing customers
    only, limit reached, other currency, more than the price). Reads only; the per-subscriber limit is
    checked when the use is reserved."""
    at = at or clock.now()
    label = promotion.code or promotion.name
    if not promotion.is_active:
        raise _refuse("promo_inactive", _("This promotion code is no longer active."), label)
    if at < promotion.starts_at:
        raise _refuse("promo_not_started", _("This promotion code is not valid yet."), label)
    if at >= promotion.ends_at:
        raise _refuse("promo_expired", _("This promotion code has expired."), label)
    carriers = {carrier.pk for carrier in promotion.carriers.all()}
    if carriers and plan.carrier_id not in carriers:
        raise _refuse("promo_other_carrier", _("This promotion code is for another carrier."), label)
    plans = {item.pk for item in promotion.plans.all()}
    if plans and plan.pk not in plans:
        raise _refuse("promo_other_plan", _("This promotion code is not valid for this plan."), label)
    if promotion.channels and channel not in promotion.channels:
        raise _refuse(
            "promo_other_channel", _("This promotion code is not valid for this way of paying."), label
        )
    if promotion.audience == PromotionAudience.NEW and not first_renewal:
        raise _refuse("promo_new_customers_only", _("This promotion is for a first renewal only."), label)
    if promotion.audience == PromotionAudience.EXISTING and first_renewal:
        raise _refuse(
            "promo_existing_customers_only", _("This promotion is for returning customers only."), label
        )
    if promotion.max_uses is not None and promotion.uses_count >= promotion.max_uses:
        raise _refuse("promo_limit_reached", _("This promotion code has been used up."), label)
    if promotion.kind == PromotionKind.FIXED_OFF and promotion.currency != plan.currency:
        raise _refuse("promo_other_currency", _("This promotion code is for another currency."), label)
    discount = _discount(promotion, plan.price)
    if discount.amount_minor >= plan.price_minor:
        raise _refuse("promo_exceeds_price", _("This promotion cannot be used on so small a price."), label)
    return PromotionQuote(
        promotion=promotion,
        discount=discount,
        bonus_data_mb=promotion.bonus_data_mb if promotion.kind == PromotionKind.BONUS_DATA else 0,
        extra_days=promotion.extra_days if promotion.kind == PromotionKind.EXTRA_DAYS else 0,
    )


def promotion_for_order(
    *, promo_code: str, plan: Plan, channel: str, first_renewal: Callable[[], bool]
) -> PromotionQuote | None:
    """The promotion an order gets: the code's (PromotionNotApplicable if it does not apply, code
    promo_unknown if there is no such code), else the automatic campaign with the largest discount
    that applies, else None. `first_renewal` (whether the payer has no completed renewal yet) is asked
    only about a promotion for new or for returning customers, and at most once."""
    first_renewal = cache(first_renewal)

    def check(promotion: Promotion) -> PromotionQuote:
        return promotion_check(
            promotion=promotion,
            plan=plan,
            channel=channel,
            # Read only by a promotion for new or returning customers: one query saved for the rest.
            first_renewal=promotion.audience != PromotionAudience.EVERYONE and first_renewal(),
        )

    code = promo_code_normalize(promo_code)
    if code:
        promotion = None
        if len(code) <= MAX_CODE_LENGTH and code.isprintable():
            promotion = Promotion.objects.filter(code__iexact=code).first()
        if promotion is None:
            raise _refuse("promo_unknown", _("There is no such promotion code."), code[:MAX_CODE_LENGTH])
        return check(promotion)
    best: PromotionQuote | None = None
    # Every order asks, and there is usually no campaign: one filter() call and no start-date lookup
    # (`check` refuses a campaign not started yet) make the query a quarter cheaper to compose.
    campaigns = Promotion.objects.filter(
        Q(max_uses__isnull=True) | Q(uses_count__lt=F("max_uses")),
        code="",
        is_active=True,
        ends_at__gt=clock.now(),
    )
    for campaign in campaigns:
        try:
            quote = check(campaign)
        except PromotionNotApplicable:
            continue
        if best is None or quote.discount.amount_minor > best.discount.amount_minor:
            best = quote
    return best


def promotion_campaigns_running() -> bool:
    """Whether any automatic campaign (no code) is running now, whatever it applies to."""
    now = clock.now()
    return Promotion.objects.filter(code="", is_active=True, starts_at__lte=now, ends_at__gt=now).exists()


def promotion_reserve(*, promotion: Promotion, subscriber: User) -> None:
    """Take one use of `promotion` for `subscriber`, in the caller's transaction (roll it back and the
    use is free again). The total and the per-subscriber counters move by conditional UPDATEs, the
    promotion's row first, then the subscriber's, so concurrent reservations queue on the row locks
    and never exceed either limit. Raises PromotionNotApplicable (promo_limit_reached,
    promo_subscriber_limit_reached) and leaves both counters as they were."""
    label = promotion.code or promotion.name
    with transaction.atomic():
        total = Promotion.objects.filter(pk=promotion.pk)
        if promotion.max_uses is not None:
            total = total.filter(uses_count__lt=F("max_uses"))
        if total.update(uses_count=F("uses_count") + 1) != 1:
            raise _refuse("promo_limit_reached", _("This promotion code has been used up."), label)
        use, _created = PromotionUse.objects.get_or_create(promotion=promotion, subscriber=subscriber)
        mine = PromotionUse.objects.filter(pk=use.pk)
        if promotion.max_uses_per_subscriber is not None:
            mine = mine.filter(used__lt=promotion.max_uses_per_subscriber)
        if mine.update(used=F("used") + 1) != 1:
            raise _refuse(
                "promo_subscriber_limit_reached",
                _("You have already used this promotion code as many times as it allows."),
                label,
            )


def promotion_release(*, promotion_id: int, subscriber_id: int) -> None:
    """Give back one use (the order that held it was canceled or refunded). Callers run it once per
    order, inside the transition that ends the order, so a use is never given back twice."""
    Promotion.objects.filter(pk=promotion_id, uses_count__gt=0).update(uses_count=F("uses_count") - 1)
    PromotionUse.objects.filter(promotion_id=promotion_id, subscriber_id=subscriber_id, used__gt=0).update(
        used=F("used") - 1
    )
