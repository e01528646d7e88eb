"""The renewal pipeline: create -> pay -> post to the ledger -> fulfil at the carrier -> extend the line
-> notify; or, when the carrier finally declines, refund to the payer's wallet and notify.

Every step is idempotent and runs under a row lock on the order, so a retried webhook, callback or
worker never charges, tops up or refunds twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.catalog.promotions import (
    PromotionQuote,
    promotion_campaigns_running,
    promotion_for_order,
    promotion_release,
    promotion_reserve,
)
from vigencia.catalog.selectors import plan_is_on_sale
from vigencia.core.errors import Conflict, DomainError, InvalidInput
from vigencia.core.money import Money
from vigencia.fulfilment.models import FulfilmentStatus
from vigencia.fulfilment.services import TopupRequest, fulfilment_start, fulfilment_start_many
from vigencia.ledger.models import LedgerAccount
from vigencia.ledger.selectors import wallet_balance
from vigencia.ledger.services import (
    AccountSpec,
    InsufficientFunds,
    LedgerEntry,
    account_system,
    account_wallet,
    accounts_get,
    ledger_post,
    ledger_post_many,
    system_spec,
    wallet_spec,
)
from vigencia.lines.models import Line, LineStatus
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.services import line_renew_many
from vigencia.notifications.services import NotificationRequest, notification_send, notification_send_many
from vigencia.orders.models import (
    ONLINE_METHODS,
    ORDER_TRANSITIONS,
    PSP_METHODS,
    TOPUP_TRANSITIONS,
    Channel,
    OrderEvent,
    OrderStatus,
    PaymentMethod,
    RenewalOrder,
    TopupStatus,
    WalletTopup,
)
from vigencia.orders.selectors import wallet_currencies
from vigencia.payments.models import PaymentStatus
from vigencia.payments.services import payment_create
from vigencia.usage.services import RenewalCredit, bucket_credit_renewal_many

TOPUP_MIN_MINOR = 500
TOPUP_MAX_MINOR = 100_000


def _move(order: RenewalOrder, target: str, **changes: Any) -> None:
    source = ORDER_TRANSITIONS.apply(
        order, field="status", target=target, updated_at=timezone.now(), **changes
    )
    OrderEvent.objects.create(order=order, kind="status", from_status=source, to_status=target)


def _locked(order_id: int) -> RenewalOrder:
    """The order, locked, with its line, carrier and payer read (not locked: a payment must not
    queue behind every other order of the carrier, nor wait on the payer's account row)."""
    return (
        RenewalOrder.objects.select_for_update(of=("self",))
        .select_related("line", "line__carrier", "payer")
        .get(pk=order_id)
    )


def _plan_name(order: RenewalOrder) -> str:
    """The plan's name in the payer's language (the order keeps the English one as its snapshot)."""
    with translation.override(order.payer.language):
        return order.plan.name


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _capture_parts(
    order: RenewalOrder, source: LedgerAccount | AccountSpec
) -> list[tuple[LedgerAccount | AccountSpec, Money]]:
    """The payer's money plus a promotion's discount (paid by promotions expense) make the full price
    the carrier is owed."""
    parts: list[tuple[LedgerAccount | AccountSpec, Money]] = [(source, -order.total)]
    if order.discount_minor:
        parts.append((system_spec(kind="promotions_expense", currency=order.currency), -order.discount))
    parts.append(
        (
            system_spec(kind="carrier_payable", currency=order.currency, key=order.carrier_code),
            order.list_price,
        )
    )
    return parts


def _capture_postings(
    order: RenewalOrder, source: LedgerAccount | AccountSpec
) -> list[tuple[LedgerAccount, Money]]:
    """`_capture_parts` with the accounts read in one query."""
    parts = _capture_parts(order, source)
    accounts = accounts_get(*(account for account, _amount in parts))
    return [(account, amount) for account, (_spec, amount) in zip(accounts, parts, strict=True)]


def _capture_entry(order: RenewalOrder, postings: list[tuple[LedgerAccount, Money]]) -> LedgerEntry:
    return LedgerEntry(
        kind="order_payment",
        idempotency_key=f"order:{order.pk}:capture",
        postings=postings,
        memo=f"Renewal {order.msisdn} {order.plan_code}",
        reference=f"order:{order.pk}",
    )


def _order_check(*, payer: User, line: Line, plan: Plan, channel: str) -> None:
    """What makes an order for `line` and `plan` impossible: InvalidInput or Conflict."""
    if line.removed_at is not None or (line.owner_id != payer.pk and channel == Channel.ONLINE):
        raise InvalidInput(_("This line is not yours."), code="line_not_found")
    if line.status == LineStatus.RECYCLED:
        raise Conflict(
            _("This number has been reassigned by the carrier; it cannot be renewed."), code="line_recycled"
        )
    if plan.carrier_id != line.carrier_id:
        raise InvalidInput(_("This plan is not sold by the line's carrier."), code="plan_wrong_carrier")
    if not plan_is_on_sale(plan=plan, carrier=line.carrier):
        raise InvalidInput(_("This plan is not on sale."), code="plan_not_on_sale")


def _promotion_quote(*, payer: User, plan: Plan, channel: str, promo_code: str) -> PromotionQuote | None:
    return promotion_for_order(
        promo_code=promo_code,
        plan=plan,
        channel=channel,
        first_renewal=lambda: (
            not RenewalOrder.objects.filter(payer=payer, status=OrderStatus.COMPLETED).exists()
        ),
    )


def _order_new(
    *,
    payer: User,
    line: Line,
    plan: Plan,
    channel: str,
    payment_method: str,
    quote: PromotionQuote | None,
    charged_now: bool,
) -> tuple[RenewalOrder, list[OrderEvent]]:
    """The order (not saved) with the price and catalog snapshot, and its first events."""
    discount_minor = quote.discount.amount_minor if quote is not None else 0
    order = RenewalOrder(
        promotion=quote.promotion if quote is not None else None,
        discount_minor=discount_minor,
        bonus_data_mb=quote.bonus_data_mb if quote is not None else 0,
        payer=payer,
        line=line,
        plan=plan,
        channel=channel,
        payment_method=payment_method,
        amount_minor=plan.price_minor - discount_minor,
        currency=plan.currency,
        msisdn=line.msisdn,
        carrier_code=line.carrier.code,
        plan_code=plan.code,
        plan_name=plan.name_en,
        validity_days=plan.validity_days + (quote.extra_days if quote is not None else 0),
        valid_until_before=line.valid_until,
    )
    events = [OrderEvent(order=order, kind="created", to_status=order.status)]
    if charged_now:
        # Paid with money the ledger holds: the order is charged in this transaction, so it is
        # inserted already paid and with the carrier; no one else can see it before, so its moves
        # are checked against the table and recorded here instead of as row updates.
        for target in (OrderStatus.PAID, OrderStatus.FULFILLING):
            ORDER_TRANSITIONS.check(order.status, target)
            events.append(OrderEvent(order=order, kind="status", from_status=order.status, to_status=target))
            order.status = target
    return order, events


def _promotion_give_back(order: RenewalOrder) -> None:
    if order.promotion_id is not None:
        promotion_release(promotion_id=order.promotion_id, subscriber_id=order.payer_id)


def order_create(
    *,
    payer: User,
    line: Line,
    plan: Plan,
    payment_method: str,
    channel: str = Channel.ONLINE,
    return_url: str = "",
    source_account: LedgerAccount | AccountSpec | None = None,
    promo_code: str = "",
) -> RenewalOrder:
    """Create a renewal order, the one entry point of every channel.

    Paid through a PSP, the order waits for the payment (its `payment_id` and the intent's checkout
    URL tell the payer where to pay). Paid with money the ledger already holds — the payer's wallet, or
    `source_account` for a redeemed voucher (voucher liability), store cash (the shift's drawer) or a
    store card terminal — it is charged and sent to the carrier in the same transaction; a wallet
    without funds raises InsufficientFunds (409) and nothing is written.

    `promo_code` (else the best automatic campaign) discounts the price or adds bonus data or days;
    its use is reserved in the order's transaction (exact limits under concurrency) and given back if
    the order is canceled or refunded. A code that does not apply raises PromotionNotApplicable (422,
    its code names the reason) and nothing is written.

    Inside a caller's transaction it takes no savepoint of its own: an error rolls back with the
    caller's transaction, so a caller that catches one and goes on takes a savepoint (as auto-renew
    does)."""
    allowed = ONLINE_METHODS if channel == Channel.ONLINE else tuple(PaymentMethod.values)
    if payment_method not in allowed:
        raise InvalidInput(
            _("Unknown payment method."), code="invalid_payment_method", details={"allowed": list(allowed)}
        )
    source: LedgerAccount | AccountSpec | None = source_account
    if payment_method == PaymentMethod.WALLET:
        source = wallet_spec(user=payer, currency=plan.currency)
    elif payment_method not in PSP_METHODS and source_account is None:
        raise ValueError(f"{payment_method} orders need the ledger account the money comes from")
    _order_check(payer=payer, line=line, plan=plan, channel=channel)
    quote = _promotion_quote(payer=payer, plan=plan, channel=channel, promo_code=promo_code)

    with transaction.atomic(savepoint=False):
        if quote is not None:
            promotion_reserve(promotion=quote.promotion, subscriber=payer)
        order, events = _order_new(
            payer=payer,
            line=line,
            plan=plan,
            channel=channel,
            payment_method=payment_method,
            quote=quote,
            charged_now=source is not None,
        )
        order.save(force_insert=True)
        OrderEvent.objects.bulk_create(events)
        if source is not None:
            ledger_post(**_capture_entry(order, _capture_postings(order, source))._asdict())
            _order_fulfil(order)
        else:
            intent = payment_create(
                payer=payer,
                amount=order.total,
                method=payment_method,
                purpose="order",
                purpose_id=str(order.pk),
                return_url=return_url or reverse("orders:detail", args=[order.pk]),
            )
            RenewalOrder.objects.filter(pk=order.pk).update(payment_id=intent.public_id)
            order.payment_id = intent.public_id
    return order


class WalletOrder(NamedTuple):
    """One order for `order_create_many`: `payer` buys `plan` for `line` from their wallet."""

    payer: User
    line: Line
    plan: Plan


def order_create_many(*, orders: Sequence[WalletOrder], channel: str) -> list[RenewalOrder | DomainError]:
    """`order_create(payment_method="wallet", channel=channel)` for many orders at once, taken in the
    given order, with the same checks, prices, promotions, ledger transactions, top-ups and rows as
    that many calls: returns for each either its order (charged and with the carrier) or the
    InvalidInput or Conflict (InsufficientFunds) that `order_create` would have raised, in which case
    nothing was written for it.

    Set-based: the payers' wallets are locked in one query (primary-key order, so concurrent batches
    and single orders never deadlock) and charged one after the other in memory, the orders and their
    events are inserted in bulk, each order's payment is still its own balanced ledger transaction
    (`ledger_post_many`), and the top-ups start together (`fulfilment_start_many`), all in one
    database transaction. An order an automatic promotion applies to goes through `order_create`."""
    if promotion_campaigns_running():
        # A campaign may discount some of them: each goes the one-order way, in the given order.
        return [_order_create_or_refusal(item, channel=channel) for item in orders]
    results: dict[int, RenewalOrder | DomainError] = {}
    checked: list[tuple[int, WalletOrder]] = []
    for index, item in enumerate(orders):
        try:
            _order_check(payer=item.payer, line=item.line, plan=item.plan, channel=channel)
        except (InvalidInput, Conflict) as error:
            results[index] = error
            continue
        checked.append((index, item))
    with transaction.atomic():
        codes = {
            index: wallet_spec(user=item.payer, currency=item.plan.currency).code for index, item in checked
        }
        wallets = {
            wallet.code: wallet
            for wallet in LedgerAccount.objects.select_for_update()
            .filter(code__in=set(codes.values()))
            .order_by("pk")
        }
        charged: list[tuple[RenewalOrder, list[OrderEvent]]] = []
        for index, item in checked:
            wallet, price = wallets.get(codes[index]), item.plan.price_minor
            if wallet is None or wallet.balance_minor < price:
                balance = Money(wallet.balance_minor if wallet else 0, item.plan.currency)
                results[index] = InsufficientFunds(
                    details={"balance": balance.as_dict(), "needed": Money(price, balance.currency).as_dict()}
                )
                continue
            wallet.balance_minor -= price
            order, events = _order_new(
                payer=item.payer,
                line=item.line,
                plan=item.plan,
                channel=channel,
                payment_method=PaymentMethod.WALLET,
                quote=None,
                charged_now=True,
            )
            charged.append((order, events))
            results[index] = order
        if charged:
            _orders_charge(charged, wallets)
    return [results[index] for index in range(len(orders))]


def _order_create_or_refusal(item: WalletOrder, *, channel: str) -> RenewalOrder | DomainError:
    try:
        with transaction.atomic():
            return order_create(
                payer=item.payer,
                line=item.line,
                plan=item.plan,
                payment_method=PaymentMethod.WALLET,
                channel=channel,
            )
    except (InvalidInput, Conflict) as error:
        return error


def _orders_charge(
    charged: list[tuple[RenewalOrder, list[OrderEvent]]], wallets: dict[str, LedgerAccount]
) -> None:
    """Insert wallet-paid orders and their events, post their payments (one ledger transaction
    each) and start their top-ups."""
    orders = RenewalOrder.objects.bulk_create([order for order, _events in charged], batch_size=1_000)
    OrderEvent.objects.bulk_create(
        [event for _order, events in charged for event in events], batch_size=2_000
    )
    parts = [
        _capture_parts(order, wallets[wallet_spec(user=order.payer, currency=order.currency).code])
        for order in orders
    ]
    specs = {spec.code: spec for rows in parts for spec, _amount in rows if isinstance(spec, AccountSpec)}
    accounts = {account.code: account for account in accounts_get(*specs.values())}
    ledger_post_many(
        [
            _capture_entry(
                order,
                [
                    (account if isinstance(account, LedgerAccount) else accounts[account.code], amount)
                    for account, amount in rows
                ],
            )
            for order, rows in zip(orders, parts, strict=True)
        ]
    )
    fulfilment_start_many([_topup_request(order) for order in orders])


def _order_paid(order: RenewalOrder) -> None:
    """Paid: hand the order to the carrier."""
    _move(order, OrderStatus.PAID)
    _move(order, OrderStatus.FULFILLING)
    _order_fulfil(order)


def _order_fulfil(order: RenewalOrder) -> None:
    """Start the carrier top-up of a fulfilling order. The external id makes a retry a no-op."""
    fulfilment_start(**_topup_request(order)._asdict())


def _topup_request(order: RenewalOrder) -> TopupRequest:
    return TopupRequest(
        external_id=f"order-{order.pk}",
        reference=f"order:{order.pk}",
        msisdn=order.msisdn,
        carrier_code=order.carrier_code,
        plan_code=order.plan_code,
        amount=order.list_price,
    )


def order_payment_settled(*, intent: Any) -> None:
    """Payment handler (VIGENCIA_PAYMENT_HANDLERS["order"]): runs in the payment's transaction."""
    order = _locked(int(intent.purpose_id))
    if order.status != OrderStatus.PENDING_PAYMENT:
        return  # a late or repeated event: the order has moved on
    if intent.status == PaymentStatus.SUCCEEDED:
        ledger_post(
            kind="order_payment",
            idempotency_key=f"order:{order.pk}:capture",
            postings=_capture_postings(
                order, system_spec(kind="psp_clearing", currency=order.currency, key=intent.provider)
            ),
            memo=f"Renewal {order.msisdn} {order.plan_code}",
            reference=f"order:{order.pk}",
        )
        _order_paid(order)
    elif intent.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
        _move(
            order,
            OrderStatus.CANCELED,
            failure_code=(intent.failure_code or intent.status)[:60],
            failure_message=(intent.failure_message or "")[:300],
        )
        _promotion_give_back(order)


def order_fulfilment_settled_many(*, transactions: Sequence[Any]) -> None:
    """Fulfilment handler (VIGENCIA_FULFILMENT_HANDLERS["order"]): the carrier answered
    for good about these top-ups. Locks their orders (one query, primary-key order); an order no
    longer fulfilling is left alone (a late or repeated answer). A completed top-up credits the line's
    buckets, moves its valid-until (`line_renew_many`), completes the order and tells the payer, all
    set-based; a declined one is refunded to the payer's wallet and the payer told, set-based too."""
    wanted = {int(transaction.reference.split(":", 1)[1]): transaction for transaction in transactions}
    orders = list(
        RenewalOrder.objects.select_for_update(of=("self",))
        .select_related("line", "line__carrier", "payer", "plan")
        .filter(pk__in=wanted, status=OrderStatus.FULFILLING)
        .order_by("pk")
    )
    completed = [order for order in orders if wanted[order.pk].status == FulfilmentStatus.COMPLETED]
    if completed:
        _orders_complete(completed)
    declined = [
        (order, wanted[order.pk].last_error or wanted[order.pk].status)
        for order in orders
        if wanted[order.pk].status != FulfilmentStatus.COMPLETED
    ]
    if declined:
        _orders_refund_to_wallet(declined)


def _orders_complete(orders: list[RenewalOrder]) -> None:
    bucket_credit_renewal_many(
        credits=[
            RenewalCredit(order.line, order.plan, f"order:{order.pk}", order.bonus_data_mb)
            for order in orders
        ]
    )
    valid_until = line_renew_many(
        renewals=[(order.line, order.validity_days, f"order:{order.pk}") for order in orders]
    )
    now = timezone.now()
    for order, new_valid_until in zip(orders, valid_until, strict=True):
        order.status, order.valid_until_after = OrderStatus.COMPLETED, new_valid_until
        order.completed_at = order.updated_at = now
    ORDER_TRANSITIONS.apply_many(
        orders,
        field="status",
        source=OrderStatus.FULFILLING,
        fields=["status", "valid_until_after", "completed_at", "updated_at"],
    )
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                kind="status",
                from_status=OrderStatus.FULFILLING,
                to_status=OrderStatus.COMPLETED,
            )
            for order in orders
        ],
        batch_size=1_000,
    )
    notification_send_many(
        [
            NotificationRequest(
                user=order.payer,
                kind="renewal_succeeded",
                dedupe_key=f"order:{order.pk}:succeeded",
                context={
                    "order_id": order.pk,
                    "msisdn": order.msisdn,
                    "msisdn_display": msisdn_display(order.msisdn),
                    "carrier_name": order.line.carrier.name,
                    "plan_name": _plan_name(order),
                    "amount": order.total.format(order.payer.language),
                    "valid_until": order.valid_until_after.isoformat(),
                    "receipt_url": _absolute(reverse("orders:receipt", args=[order.pk])),
                },
            )
            for order in orders
            if order.valid_until_after is not None
        ]
    )


def order_refund_at_store(order: RenewalOrder) -> str:
    """How the refund of a sale paid at a store counter goes back: "cash" from the drawer, "card"
    reversed on the store's terminal (`stores.services.pos_cash_return`), not as wallet credit (a
    walk-in customer has no wallet, and the payer of a walk-in number is nobody); "" for the others."""
    if order.channel != Channel.STORE:
        return ""
    ways: dict[str, str] = {PaymentMethod.CASH: "cash", PaymentMethod.CARD_TERMINAL: "card"}
    return ways.get(order.payment_method, "")


def _refund_account(order: RenewalOrder) -> AccountSpec:
    if order_refund_at_store(order):
        return system_spec(kind="store_cash_owed", currency=order.currency)
    return wallet_spec(user=order.payer, currency=order.currency)


def _orders_refund_to_wallet(declined: list[tuple[RenewalOrder, str]]) -> None:
    """The carrier declined these locked, fulfilling orders (each with its reason): each order's
    money goes back to its payer's wallet, whatever way they paid (cash at a store counter goes to
    what the stores owe back, `stores.services.pos_cash_return`), as its own ledger transaction
    (`ledger_post_many`); the orders move to failed then refunded in one UPDATE (conditional on
    fulfilling, as a transition is) with their events in one insert, and the payers are told
    together."""
    orders = [order for order, _reason in declined]
    # The exact opposite of the capture: the payer gets back what they paid, and promotions expense
    # its discount.
    parts = [_capture_parts(order, _refund_account(order)) for order in orders]
    specs = {spec.code: spec for rows in parts for spec, _amount in rows if isinstance(spec, AccountSpec)}
    accounts = {account.code: account for account in accounts_get(*specs.values())}
    ledger_post_many(
        [
            LedgerEntry(
                kind="order_refund",
                idempotency_key=f"order:{order.pk}:refund",
                postings=[(accounts[spec.code], -amount) for spec, amount in rows],
                memo=f"Refund of renewal {order.msisdn} {order.plan_code}",
                reference=f"order:{order.pk}",
            )
            for order, rows in zip(orders, parts, strict=True)
        ]
    )
    now = timezone.now()
    for order, reason in declined:
        order.status, order.failure_code, order.failure_message = (
            OrderStatus.REFUNDED,
            "carrier_declined",
            reason[:300],
        )
        order.updated_at = now
    ORDER_TRANSITIONS.apply_many(
        orders,
        field="status",
        source=OrderStatus.FULFILLING,
        via=[OrderStatus.FAILED],
        fields=["status", "failure_code", "failure_message", "updated_at"],
    )
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(order=order, kind="status", from_status=source, to_status=target)
            for order in orders
            for source, target in (
                (OrderStatus.FULFILLING, OrderStatus.FAILED),
                (OrderStatus.FAILED, OrderStatus.REFUNDED),
            )
        ],
        batch_size=1_000,
    )
    for order in orders:
        _promotion_give_back(order)
    wallet_url = _absolute(reverse("orders:wallet"))
    notification_send_many(
        [
            NotificationRequest(
                user=order.payer,
                kind="renewal_failed",
                dedupe_key=f"order:{order.pk}:failed",
                context={
                    "order_id": order.pk,
                    "msisdn_display": msisdn_display(order.msisdn),
                    "plan_name": _plan_name(order),
                    "amount": order.total.format(order.payer.language),
                    "reason": reason[:200],
                    "refunded": True,
                    "cash_at_store": order_refund_at_store(order) == "cash",
                    "card_at_store": order_refund_at_store(order) == "card",
                    "wallet_url": wallet_url,
                },
            )
            for order, reason in declined
        ]
    )


def wallet_amount_check(amount: Money, *, field: str | None = None) -> None:
    """What one credit to a wallet (a top-up, a wallet card) may be: in a currency a wallet holds
    (`wallet_currencies`), between the top-up limits; InvalidInput otherwise, naming `field` (a
    top-up's own fields, currency and amount_minor, without it)."""
    allowed = wallet_currencies()
    if amount.currency not in allowed:
        raise InvalidInput(
            _("The wallet does not hold %(currency)s: top up in %(allowed)s.")
            % {"currency": amount.currency, "allowed": ", ".join(allowed)},
            code="invalid_currency",
            details={"field": field or "currency", "allowed": allowed},
        )
    if not TOPUP_MIN_MINOR <= amount.amount_minor <= TOPUP_MAX_MINOR:
        raise InvalidInput(
            _("A top-up is between %(min)s and %(max)s.")
            % {
                "min": Money(TOPUP_MIN_MINOR, amount.currency),
                "max": Money(TOPUP_MAX_MINOR, amount.currency),
            },
            code="invalid_amount",
            details={
                "field": field or "amount_minor",
                "min_minor": TOPUP_MIN_MINOR,
                "max_minor": TOPUP_MAX_MINOR,
            },
        )


def wallet_topup_create(
    *, user: User, amount: Money, payment_method: str, return_url: str = ""
) -> WalletTopup:
    """Start a wallet top-up through a PSP; the wallet is credited when the payment succeeds. A
    currency the wallet does not hold (`wallet_currencies`) is InvalidInput, nothing written."""
    if payment_method not in PSP_METHODS:
        raise InvalidInput(
            _("Top up with a card, an e-wallet or PayPal."),
            code="invalid_payment_method",
            details={"allowed": list(PSP_METHODS)},
        )
    wallet_amount_check(amount)
    with transaction.atomic():
        topup = WalletTopup.objects.create(
            user=user,
            amount_minor=amount.amount_minor,
            currency=amount.currency,
            payment_method=payment_method,
        )
        intent = payment_create(
            payer=user,
            amount=amount,
            method=payment_method,
            purpose="topup",
            purpose_id=str(topup.pk),
            # Back on the wallet page, which tells how this top-up went.
            return_url=return_url or f"{reverse('orders:wallet')}?topup={topup.pk}",
        )
        WalletTopup.objects.filter(pk=topup.pk).update(payment_id=intent.public_id)
        topup.payment_id = intent.public_id
    return topup


def wallet_topup_settled(*, intent: Any) -> None:
    """Payment handler (VIGENCIA_PAYMENT_HANDLERS["topup"]): credit the wallet once."""
    topup = WalletTopup.objects.select_for_update().select_related("user").get(pk=int(intent.purpose_id))
    if topup.status != TopupStatus.PENDING:
        return
    if intent.status == PaymentStatus.SUCCEEDED:
        ledger_post(
            kind="wallet_topup",
            idempotency_key=f"topup:{topup.pk}",
            postings=[
                (
                    account_system(kind="psp_clearing", currency=topup.currency, key=intent.provider),
                    -topup.amount,
                ),
                (account_wallet(user=topup.user, currency=topup.currency), topup.amount),
            ],
            memo="Wallet top-up",
            reference=f"topup:{topup.pk}",
        )
        TOPUP_TRANSITIONS.apply(topup, field="status", target=TopupStatus.SUCCEEDED)
        language = topup.user.language
        notification_send(
            user=topup.user,
            kind="wallet_topped_up",
            dedupe_key=f"topup:{topup.pk}:succeeded",
            context={
                "amount": topup.amount.format(language),
                "balance": wallet_balance(user=topup.user, currency=topup.currency).format(language),
            },
        )
    elif intent.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
        TOPUP_TRANSITIONS.apply(topup, field="status", target=TopupStatus.FAILED)
