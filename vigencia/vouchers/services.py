"""Voucher writes: generate and sell batches, redeem a PIN, void and expire codes, take the export once,
reseller API keys, and the brute-force guard around redemption.

Money: selling a batch moves its face value from the reseller's prepaid balance (or, for a batch the
operator gives away, promotions expense) into the batch's voucher liability; a redemption is a renewal
order paid from that liability (a wallet card's, a credit to the redeemer's wallet); voiding gives
the liability back to whoever funded it; expiry turns it into revenue (breakage).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

from babel.numbers import format_decimal
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vigencia.accounts import roles
from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier, Plan
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput, PermissionDenied, RateLimited
from vigencia.core.money import Money, babel_locale
from vigencia.core.transitions import IllegalTransition
from vigencia.ledger.models import LedgerAccount, LedgerTransaction
from vigencia.ledger.selectors import wallet_balance
from vigencia.ledger.services import (
    AccountSpec,
    account_system,
    account_wallet,
    accounts_get,
    ledger_post,
    system_spec,
)
from vigencia.lines.models import Line
from vigencia.lines.numbers import msisdn_normalize
from vigencia.lines.services import line_add
from vigencia.notifications.services import notification_send
from vigencia.orders.models import Channel, PaymentMethod, RenewalOrder
from vigencia.orders.services import order_create, wallet_amount_check
from vigencia.vouchers import exports
from vigencia.vouchers.codes import (
    MAX_BATCH_ID,
    MAX_BATCH_SIZE,
    pin_clean,
    pin_digest,
    pins_digest,
    pins_new,
    serials_make,
)
from vigencia.vouchers.models import (
    VOUCHER_TRANSITIONS,
    AttemptCounter,
    AttemptOutcome,
    RedemptionAttempt,
    ResellerApiKey,
    VoucherBatch,
    VoucherCode,
    VoucherEvent,
    VoucherStatus,
)
from vigencia.vouchers.selectors import void_range

logger = logging.getLogger(__name__)

DEFAULT_VALIDITY = timedelta(days=365)
MAX_VALIDITY = timedelta(days=3 * 365)
CHUNK = 50_000
API_KEY_PREFIX = "vrk_"
# Receives a new batch's (serial, PIN) pairs, chunk by chunk, once each chunk is stored.
PinSink = Callable[[VoucherBatch, list[tuple[str, str]]], None]


class VoucherInvalid(InvalidInput):
    """Unknown, used, void and expired PINs all get this one answer, so a guesser learns nothing."""

    code = "voucher_invalid"
    # One message for every case, saying what each may be (the serial check tells a holder which).
    default_message = gettext_lazy(  # type: ignore[assignment]
        "This recharge code cannot be used: the PIN is wrong, or the code was already used, voided "
        "or has expired."
    )


@dataclass(frozen=True)
class WalletCredit:
    """A wallet card redeemed: what went into whose wallet, and the wallet's balance after it."""

    user: User
    amount: Money
    balance: Money


class VoucherWrongCarrier(InvalidInput):
    """A live code of another carrier's plan: a failed attempt like a wrong PIN (audited and counted,
    or a guesser could test PINs against a carrier they are not for without limit)."""

    code = "voucher_wrong_carrier"
    default_message = gettext_lazy("This recharge code is for another carrier.")  # type: ignore[assignment]


# ---------------------------------------------------------------------------------------------------
# Resellers: prepaid balance and API keys


def reseller_prepaid_account(*, reseller: User, currency: str) -> LedgerAccount:
    return account_system(
        kind="reseller_prepaid", currency=currency, key=f"reseller-{reseller.pk}", owner=reseller
    )


def reseller_currencies(*, reseller: User) -> list[str]:
    """The currencies of the reseller's prepaid balances (PEN, the one the reseller page shows, at
    least): the plans it can buy codes of."""
    held = LedgerAccount.objects.filter(kind="reseller_prepaid", owner=reseller)
    return sorted({"PEN", *held.values_list("currency", flat=True)})


def reseller_prepaid_credit(*, reseller: User, amount: Money, reference: str) -> LedgerTransaction:
    """Credit a reseller's prepaid balance with money received (a bank transfer). Exactly once per
    `reference` (a repeat returns the first transaction)."""
    if amount.amount_minor <= 0:
        raise InvalidInput(_("The amount must be positive."), code="invalid_amount")
    return ledger_post(
        kind="reseller_prepaid_credit",
        idempotency_key=f"reseller-credit:{reseller.pk}:{reference}",
        postings=[
            (account_system(kind="psp_clearing", currency=amount.currency, key="bank_transfer"), -amount),
            (reseller_prepaid_account(reseller=reseller, currency=amount.currency), amount),
        ],
        memo=f"Prepaid credit {reference}",
        reference=f"reseller:{reseller.pk}",
    )


def reseller_is(user: User) -> bool:
    return user.is_active and user.groups.filter(name=roles.RESELLER).exists()


def reseller_api_key_issue(*, user: User, name: str = "api") -> tuple[ResellerApiKey, str]:
    """Issue an API key for a reseller; returns the row and the key, which is shown once, never stored."""
    if not reseller_is(user):
        raise PermissionDenied(_("Only resellers get reseller API keys."), code="not_a_reseller")
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ResellerApiKey.objects.create(
        user=user, name=name[:100], prefix=key[:10], digest=hashlib.sha256(key.encode()).hexdigest()
    )
    return row, key


def reseller_api_key_authenticate(*, key: str) -> User | None:
    if not key.startswith(API_KEY_PREFIX) or len(key) > 100:
        return None
    row = (
        ResellerApiKey.objects.select_related("user")
        .filter(
            digest=hashlib.sha256(key.encode()).hexdigest(), revoked_at__isnull=True, user__is_active=True
        )
        .first()
    )
    if row is None:
        return None
    ResellerApiKey.objects.filter(pk=row.pk).update(last_used_at=clock.now())
    return row.user


def reseller_api_key_revoke(*, user: User, key_id: int) -> bool:
    """Revoke one of the reseller's keys. Idempotent; True if it was live until now."""
    return bool(
        ResellerApiKey.objects.filter(pk=key_id, user=user, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
    )


# ---------------------------------------------------------------------------------------------------
# Batches


def _rows_store(*, batch_id: int, status: str, serials: list[str], digests: list[str]) -> None:
    """Insert code rows: PostgreSQL's COPY, fed one text block, where available, else bulk_create."""
    if connection.vendor == "postgresql":
        block = "".join(
            f"{batch_id}\t{serial}\t{digest}\t{status}\n"
            for serial, digest in zip(serials, digests, strict=True)
        )
        with (
            connection.cursor() as cursor,
            cursor.copy(  # type: ignore[attr-defined]
                "COPY vouchers_vouchercode (batch_id, serial, pin_digest, status) FROM STDIN"
            ) as copy,
        ):
            copy.write(block)
        return
    VoucherCode.objects.bulk_create(
        [
            VoucherCode(batch_id=batch_id, serial=serial, pin_digest=digest, status=status)
            for serial, digest in zip(serials, digests, strict=True)
        ],
        batch_size=2_000,
    )


def _chunk_draw(*, batch_id: int, start: int, stop: int) -> tuple[list[str], list[str], list[str]]:
    """The serials, fresh PINs (distinct among themselves) and PIN digests of one chunk of a batch."""
    serials = serials_make(batch_id=batch_id, start=start, stop=stop)
    pins = pins_new(len(serials))
    while len(set(pins)) != len(pins):
        pins = pins_new(len(serials))
    return serials, pins, pins_digest(pins)


def _codes_insert(
    batch: VoucherBatch, status: str, sink: PinSink, progress: Callable[[int], None] | None
) -> None:
    """Insert the batch's codes in chunks; each chunk's (serial, PIN) pairs go to `sink` only once they
    are stored. A PIN that collides with any stored one (the unique HMAC index) redraws the chunk.
    A helper thread draws the next chunk while the database stores this one."""
    bounds = [(start, min(start + CHUNK, batch.count + 1)) for start in range(1, batch.count + 1, CHUNK)]
    with ThreadPoolExecutor(max_workers=1) as drawer:
        upcoming = drawer.submit(_chunk_draw, batch_id=batch.pk, start=bounds[0][0], stop=bounds[0][1])
        for position, (start, stop) in enumerate(bounds):
            serials, pins, digests = upcoming.result()
            if position + 1 < len(bounds):
                after, end = bounds[position + 1]
                upcoming = drawer.submit(_chunk_draw, batch_id=batch.pk, start=after, stop=end)
            for attempt in range(5):
                try:
                    with transaction.atomic():
                        _rows_store(batch_id=batch.pk, status=status, serials=serials, digests=digests)
                    break
                except IntegrityError:
                    if attempt == 4:
                        raise
                    serials, pins, digests = _chunk_draw(batch_id=batch.pk, start=start, stop=stop)
            sink(batch, list(zip(serials, pins, strict=True)))
            if progress is not None:
                progress(len(serials))


def batch_create(
    *,
    plan: Plan | None = None,
    face: Money | None = None,
    count: int,
    sink: PinSink,
    expires_on: date | None = None,
    reseller: User | None = None,
    created_by: User | None = None,
    progress: Callable[[int], None] | None = None,
    max_count: int = MAX_BATCH_SIZE,
) -> VoucherBatch:
    """Create a batch of `count` codes for `plan`, or of wallet cards worth `face` each, in one
    transaction. The PINs are handed to `sink`
    chunk by chunk and to nothing else (the database keeps only their HMACs): the caller writes the
    one export. With a reseller, the batch is sold to them at once (see batch_activate): their prepaid
    balance pays the face value, the codes are active, and InsufficientFunds (409) writes nothing."""
    if (plan is None) == (face is None):
        raise InvalidInput(
            _("Choose a plan, or a wallet card's value."), code="plan_or_value", details={"field": "plan"}
        )
    if face is not None:  # a wallet card is worth what one wallet top-up may be
        wallet_amount_check(face, field="face_value")
    today = clock.today()
    expires_on = expires_on or today + DEFAULT_VALIDITY
    if not 1 <= count <= max_count:
        raise InvalidInput(
            _("A batch has 1 to %(max)s codes.") % {"max": format_decimal(max_count, locale=babel_locale())},
            code="invalid_count",
            details={"field": "count", "max": max_count},
        )
    if not today < expires_on <= today + MAX_VALIDITY:
        raise InvalidInput(
            _("The expiry must be after today and within three years."),
            code="invalid_expiry",
            details={"field": "expires_on"},
        )
    if reseller is not None and not reseller_is(reseller):
        raise InvalidInput(_("This account is not a reseller."), code="not_a_reseller")
    with transaction.atomic():
        batch = VoucherBatch.objects.create(
            plan=plan,
            reseller=reseller,
            count=count,
            face_minor=plan.price_minor if plan is not None else face.amount_minor,  # type: ignore[union-attr]
            currency=plan.currency if plan is not None else face.currency,  # type: ignore[union-attr]
            expires_on=expires_on,
            created_by=created_by,
        )
        if batch.pk > MAX_BATCH_ID:
            raise Conflict(_("The serial space is exhausted."), code="serials_exhausted")
        if reseller is not None:
            # Charge first: a reseller without the funds costs no code generation.
            _batch_fund(batch)
        _codes_insert(batch, VoucherStatus.ACTIVE if reseller else VoucherStatus.CREATED, sink, progress)
        VoucherEvent.objects.create(
            batch=batch,
            from_status="",
            to_status=VoucherStatus.ACTIVE if reseller else VoucherStatus.CREATED,
            count=count,
            actor=created_by,
        )
    return batch


def _funding_account(batch: VoucherBatch) -> LedgerAccount:
    if batch.reseller_id is not None:
        return reseller_prepaid_account(reseller=batch.reseller, currency=batch.currency)  # type: ignore[arg-type]
    return account_system(kind="promotions_expense", currency=batch.currency, key="vouchers")


def _liability_spec(batch: VoucherBatch) -> AccountSpec:
    return system_spec(kind="voucher_liability", currency=batch.currency, key=batch.liability_key)


def _liability(batch: VoucherBatch) -> LedgerAccount:
    return accounts_get(_liability_spec(batch))[0]


def _batch_fund(batch: VoucherBatch) -> None:
    total = batch.face * batch.count
    ledger_post(
        kind="voucher_sale",
        idempotency_key=f"voucher-batch:{batch.pk}:sale",
        postings=[(_funding_account(batch), -total), (_liability(batch), total)],
        memo=f"Voucher batch #{batch.pk}: {batch.count} × {batch.plan.code if batch.plan else 'wallet'}",
        reference=f"voucher-batch:{batch.pk}",
    )
    VoucherBatch.objects.filter(pk=batch.pk).update(sold_at=clock.now())


def batch_activate(*, batch: VoucherBatch, actor: User | None = None) -> int:
    """Put a batch's unsold codes on sale: funded by its reseller's prepaid balance, or by promotions
    expense for a batch the operator gives away. Locks the batch row; exactly once (a repeat moves
    nothing and posts nothing). Returns how many codes became active."""
    with transaction.atomic():
        batch = (
            VoucherBatch.objects.select_for_update(of=("self",))
            .select_related("plan", "reseller")
            .get(pk=batch.pk)
        )
        if batch.sold_at is not None:
            return 0
        _batch_fund(batch)
        moved = VoucherCode.objects.filter(batch=batch, status=VoucherStatus.CREATED).update(
            status=VoucherStatus.ACTIVE
        )
        VoucherEvent.objects.create(
            batch=batch,
            from_status=VoucherStatus.CREATED,
            to_status=VoucherStatus.ACTIVE,
            count=moved,
            actor=actor,
        )
    return moved


def batch_export_hold(*, batch: VoucherBatch, csv_text: str, pdf: bytes | None) -> None:
    """Keep a new batch's export (encrypted, on disk, never in the database) for its one download."""
    exports.export_hold(batch_id=batch.pk, content=exports.export_zip(csv_text=csv_text, pdf=pdf))


def batch_export_written(*, batch: VoucherBatch) -> None:
    """The export left already (the operator's CLI wrote it to a file): no download will be offered."""
    VoucherBatch.objects.filter(pk=batch.pk, exported_at__isnull=True).update(exported_at=clock.now())


def batch_export_take(*, batch: VoucherBatch) -> bytes:
    """The batch's export (a zip of codes.csv and cards.pdf), exactly once: a conditional update claims
    it, and the file is deleted when that commits. A second call raises Conflict."""
    with transaction.atomic():
        claimed = VoucherBatch.objects.filter(pk=batch.pk, exported_at__isnull=True).update(
            exported_at=clock.now()
        )
        content = exports.export_read(batch_id=batch.pk) if claimed else None
        if content is None:
            raise Conflict(
                _("This batch's codes were already downloaded; they are never shown again."),
                code="export_already_downloaded",
            )
        transaction.on_commit(lambda: exports.export_delete(batch_id=batch.pk))
    return content


def voucher_void(
    *, batch: VoucherBatch, actor: User | None = None, serial_from: str = "", serial_to: str = ""
) -> int:
    """Void a lost batch, or the serials from `serial_from` to `serial_to` of it (as printed, with or
    without dashes; both of this batch). Sold codes give their face value back to whoever funded them
    (the reseller's prepaid balance). Locks the batch row; codes already redeemed, void or expired are
    left alone, so a repeat voids nothing. Returns how many codes were voided."""
    serial_from, serial_to = void_range(batch=batch, serial_from=serial_from, serial_to=serial_to)
    with transaction.atomic():
        batch = (
            VoucherBatch.objects.select_for_update(of=("self",))
            .select_related("plan", "reseller")
            .get(pk=batch.pk)
        )
        codes = VoucherCode.objects.filter(batch=batch)
        if serial_from:
            codes = codes.filter(serial__gte=serial_from, serial__lte=serial_to)
        voided = 0
        for source in VOUCHER_TRANSITIONS.sources_of(VoucherStatus.VOID):
            moved = codes.filter(status=source).update(status=VoucherStatus.VOID)
            if not moved:
                continue
            voided += moved
            event = VoucherEvent.objects.create(
                batch=batch,
                from_status=source,
                to_status=VoucherStatus.VOID,
                count=moved,
                serial_from=serial_from,
                serial_to=serial_to,
                actor=actor,
            )
            if source == VoucherStatus.ACTIVE:
                total = batch.face * moved
                ledger_post(
                    kind="voucher_void",
                    idempotency_key=f"voucher-void:{event.pk}",
                    postings=[(_liability(batch), -total), (_funding_account(batch), total)],
                    memo=f"Voided {moved} codes of batch #{batch.pk}",
                    reference=f"voucher-batch:{batch.pk}",
                )
    return voided


def voucher_expire(*, today: date | None = None) -> int:
    """Expire every live code whose batch expired before `today` (Lima). Sold codes turn their
    liability into revenue (breakage). Locks each batch row; a repeat expires nothing. Returns how many
    codes expired."""
    today = today or clock.today()
    expired = 0
    live = [VoucherStatus.CREATED, VoucherStatus.ACTIVE]
    batch_ids = (
        VoucherCode.objects.filter(batch__expires_on__lt=today, status__in=live)
        .values_list("batch_id", flat=True)
        .distinct()
    )
    for batch_id in sorted(set(batch_ids)):
        with transaction.atomic():
            batch = (
                VoucherBatch.objects.select_for_update(of=("self",)).select_related("plan").get(pk=batch_id)
            )
            for source in VOUCHER_TRANSITIONS.sources_of(VoucherStatus.EXPIRED):
                moved = VoucherCode.objects.filter(batch=batch, status=source).update(
                    status=VoucherStatus.EXPIRED
                )
                if not moved:
                    continue
                expired += moved
                event = VoucherEvent.objects.create(
                    batch=batch, from_status=source, to_status=VoucherStatus.EXPIRED, count=moved
                )
                if source == VoucherStatus.ACTIVE:
                    total = batch.face * moved
                    ledger_post(
                        kind="voucher_breakage",
                        idempotency_key=f"voucher-expire:{event.pk}",
                        postings=[
                            (_liability(batch), -total),
                            (
                                account_system(
                                    kind="revenue", currency=batch.currency, key="voucher_breakage"
                                ),
                                total,
                            ),
                        ],
                        memo=f"Expired {moved} codes of batch #{batch.pk}",
                        reference=f"voucher-batch:{batch.pk}",
                    )
    return expired


# ---------------------------------------------------------------------------------------------------
# Brute-force guard: fixed-window counters in the database, shared by every process. The per-account
# and per-IP counters are rows of their own; the overall one is split into GLOBAL_SHARDS rows, each
# failure adding to one at random and the limit reading their sum, so failures from many clients do
# not queue on one hot row.

GLOBAL_SHARDS = 16


def _window(seconds: int) -> int:
    now = int(clock.now().timestamp())
    return now - now % seconds


def _client_keys(user: User | None, ip: str | None) -> list[tuple[str, str]]:
    keys = []
    if user is not None:
        keys.append(("account", str(user.pk)))
    if ip:
        keys.append(("ip", ip[:64]))
    return keys


def _global_keys() -> list[str]:
    return [f"*{shard}" for shard in range(GLOBAL_SHARDS)]


def _counters_bump(*counters: tuple[str, str]) -> int:
    """Add one to the current window's counter of each (scope, key) in one race-safe statement (an
    insert that adds one to a row the window has already; PostgreSQL and SQLite); returns the first
    counter's new value. Rows are taken in the order given, one per scope, always global, account,
    IP: two callers never wait on each other's rows crosswise."""
    limits = settings.VIGENCIA_VOUCHER_LIMITS
    values = ", ".join(["(%s, %s, %s, 1)"] * len(counters))
    params = [item for scope, key in counters for item in (scope, key, _window(limits[scope][1]))]
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO "vouchers_attemptcounter" ("scope", "key", "window", "count") '  # noqa: S608 - placeholders only
            f'VALUES {values} ON CONFLICT ("scope", "key", "window") '
            'DO UPDATE SET "count" = "vouchers_attemptcounter"."count" + 1 RETURNING "scope", "count"',
            params,
        )
        new_counts = dict(cursor.fetchall())
    return int(new_counts[counters[0][0]])


def _counts(user: User | None, ip: str | None) -> dict[str, int]:
    """The current window's failures per scope (account, IP, and the sum of the global shards), in
    one query."""
    limits = settings.VIGENCIA_VOUCHER_LIMITS
    wanted = [("global", key) for key in _global_keys()] + _client_keys(user, ip)
    params = [item for scope, key in wanted for item in (scope, key, _window(limits[scope][1]))]
    # Every redemption asks first: one plain statement (the ORM took longer to compose this OR of
    # 18 (scope, key, window) triples than PostgreSQL takes to run it), by the unique index.
    rows = ", ".join(["(%s, %s, %s)"] * len(wanted))
    counts: dict[str, int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "scope", "count" FROM "vouchers_attemptcounter" '  # noqa: S608 - placeholders only
            f'WHERE ("scope", "key", "window") IN (VALUES {rows})',
            params,
        )
        for scope, count in cursor.fetchall():
            counts[scope] += count
    return counts


def _retry_after(scopes: list[str]) -> int:
    """Seconds until every one of these scopes' current window has passed."""
    limits = settings.VIGENCIA_VOUCHER_LIMITS
    now = int(clock.now().timestamp())
    return max(limits[scope][1] - now % limits[scope][1] for scope in scopes)


def _locked_scopes(user: User | None, ip: str | None) -> list[str]:
    """The scopes whose current window has reached its limit."""
    limits = settings.VIGENCIA_VOUCHER_LIMITS
    counts = _counts(user, ip)
    return [scope for scope in ("global", "account", "ip") if counts.get(scope, 0) >= limits[scope][0]]


def _attempt(
    user: User | None, ip: str | None, channel: str, outcome: str, code: VoucherCode | None = None
) -> None:
    RedemptionAttempt.objects.create(
        user=user, ip=ip or None, channel=channel[:12], outcome=outcome, code=code
    )


def _failure_record(user: User | None, ip: str | None, channel: str, code: VoucherCode | None) -> None:
    _attempt(user, ip, channel, AttemptOutcome.INVALID, code)
    _counters_bump(("global", f"*{secrets.randbelow(GLOBAL_SHARDS)}"), *_client_keys(user, ip))
    failures = _counts(None, None)["global"]
    if failures >= settings.VIGENCIA_VOUCHER_ALERT_FAILURES:
        _failure_alert(failures)


def _failure_alert(count: int) -> None:
    """Failed redemptions spiked: log it and tell every operator, once per window (the first to create
    the window's marker row raises it; later failures only read the marker)."""
    seconds = settings.VIGENCIA_VOUCHER_LIMITS["global"][1]
    window = _window(seconds)
    _marker, first = AttemptCounter.objects.get_or_create(scope="alert", key="*", window=window)
    if not first:
        return
    logger.warning("voucher redemption failures spiked: %d failures in the last %d s", count, seconds)
    for operator in User.objects.filter(groups__name=roles.OPERATOR, is_active=True).order_by("pk"):
        with translation.override(operator.language):
            notification_send(
                user=operator,
                kind="message",
                dedupe_key=f"vouchers:failure-alert:{window}:{operator.pk}",
                context={
                    "subject": _("Recharge code failures spiked"),
                    "body": _(
                        "%(count)d failed redemptions in %(minutes)d minutes: someone may be guessing PINs."
                    )
                    % {"count": count, "minutes": seconds // 60},
                },
                channels=["email"],
            )


def attempt_counters_purge() -> int:
    """Delete the counters of windows that have ended in every scope (the longest window is the
    oldest that can still be current); returns how many rows went. The limits only ever read the
    current window, so nothing they count is lost."""
    longest = max(seconds for _limit, seconds in settings.VIGENCIA_VOUCHER_LIMITS.values())
    deleted, _by_model = AttemptCounter.objects.filter(
        window__lte=int(clock.now().timestamp()) - longest
    ).delete()
    return deleted


def verify_throttle(*, ip: str | None) -> None:
    """Count a verify lookup from `ip`; raises RateLimited past the per-minute limit."""
    limit, seconds = settings.VIGENCIA_VOUCHER_LIMITS["verify_ip"]
    if _counters_bump(("verify_ip", (ip or "unknown")[:64])) > limit:
        raise RateLimited(details={"retry_after": seconds - (int(clock.now().timestamp()) % seconds)})


# ---------------------------------------------------------------------------------------------------
# Redemption


def _gift_line(*, redeemer: User, msisdn: str, carrier: Carrier) -> Line:
    e164 = msisdn_normalize(msisdn, country=carrier.country)
    line = Line.objects.filter(owner=redeemer, msisdn=e164, removed_at__isnull=True).first()
    if line is not None:
        if line.carrier_id != carrier.pk:
            raise InvalidInput(
                _("This number is registered with another carrier."), code="line_wrong_carrier"
            )
        return line
    return line_add(owner=redeemer, msisdn=e164, carrier=carrier)


def _code_redeemed(
    code: VoucherCode, *, redeemer: User, ip: str | None, channel: str, order: RenewalOrder | None
) -> None:
    """Move a locked, active code to redeemed (the conditional update is the second guard: a writer
    that skipped the lock cannot make the same move), with its event and the attempt's audit row."""
    try:
        VOUCHER_TRANSITIONS.apply(
            code,
            field="status",
            target=VoucherStatus.REDEEMED,
            redeemed_at=clock.now(),
            redeemed_by=redeemer,
            order=order,
        )
    except IllegalTransition:
        raise VoucherInvalid()
    VoucherEvent.objects.create(
        batch=code.batch,
        code=code,
        from_status=VoucherStatus.ACTIVE,
        to_status=VoucherStatus.REDEEMED,
        serial_from=code.serial,
        serial_to=code.serial,
        actor=redeemer,
    )
    _attempt(redeemer, ip, channel, AttemptOutcome.REDEEMED, code)


def _wallet_card_redeem(
    code: VoucherCode, *, redeemer: User, holder: User | None, ip: str | None, channel: str
) -> WalletCredit:
    """A wallet card: its face value moves from the batch's liability to the redeemer's wallet."""
    if holder is not None:
        raise InvalidInput(
            _("This is a wallet card: its holder redeems it online, into their own wallet."),
            code="wallet_card_online_only",
        )
    batch = code.batch
    _code_redeemed(code, redeemer=redeemer, ip=ip, channel=channel, order=None)
    ledger_post(
        kind="voucher_wallet_credit",
        idempotency_key=f"voucher:{code.pk}:wallet",
        postings=[
            (_liability(batch), -batch.face),
            (account_wallet(user=redeemer, currency=batch.currency), batch.face),
        ],
        memo="Wallet card",
        reference=f"voucher:{code.pk}",
    )
    balance = wallet_balance(user=redeemer, currency=batch.currency)
    notification_send(
        user=redeemer,
        kind="wallet_topped_up",
        dedupe_key=f"voucher:{code.pk}:wallet",
        context={
            "amount": batch.face.format(redeemer.language),
            "balance": balance.format(redeemer.language),
        },
    )
    return WalletCredit(user=redeemer, amount=batch.face, balance=balance)


def voucher_redeem(
    *,
    pin: str,
    redeemer: User,
    ip: str | None,
    line: Line | None = None,
    msisdn: str = "",
    carrier: Carrier | None = None,
    channel: str = "api",
    holder: User | None = None,
    on_redeemed: Callable[[RenewalOrder], object] | None = None,
) -> RenewalOrder | WalletCredit:
    """Redeem a PIN for a renewal of `line` (one of the redeemer's), or as a gift of `msisdn` on
    `carrier` (registered as the redeemer's line if it is not yet). A wallet card needs no line: its
    face value goes to the redeemer's wallet (only online: at a counter, with a `holder`, it is
    refused and stays unused); a plan's code without a line or a number is refused (line_required),
    unused, once the code is known good. `holder`, when the redeemer acts
    for someone else (a store agent at the counter), is whom the order is for and a gift line is
    registered to; failures still count against the redeemer. `on_redeemed(order)` runs in the
    redemption's transaction (a store's receipt is issued with it or not at all). Exactly once per
    code under any concurrency: the code is found and locked in one query, and moves active ->
    redeemed by a conditional update in the same transaction as the order (paid from the batch's
    voucher liability), so both commit or neither; a concurrent attempt waits for the lock and finds
    it used.

    Unknown, used, void and expired PINs raise the one VoucherInvalid (422), a code of another carrier
    VoucherWrongCarrier (422). Both are failures, counted per account, per IP and overall; past any
    limit every attempt, even a correct PIN, raises RateLimited (429) until the window ends. Every
    attempt is audited, never with the PIN."""
    locked = _locked_scopes(redeemer, ip)
    if locked:
        _attempt(redeemer, ip, channel, AttemptOutcome.LOCKED)
        raise RateLimited(
            _("Too many wrong recharge codes. Try again later."),
            code="rate_limited",
            details={"limits": locked, "retry_after": _retry_after(locked)},
        )
    line_required = InvalidInput(
        _("Choose one of your lines, or give a number and its carrier."), code="line_required"
    )
    if line is None and (carrier is None) != (not msisdn):
        raise line_required  # half a gift
    if line is None and carrier is not None:
        msisdn_normalize(msisdn, country=carrier.country)  # a bad number is refused before the PIN is read
    clean = pin_clean(pin)
    code = None
    try:
        with transaction.atomic():
            if clean is not None:
                # Found and locked in one query: a concurrent redemption of the same code waits here
                # and then reads it redeemed. get() rather than first(): the digest is unique, and
                # first()'s ORDER BY makes the query costlier to compose.
                with contextlib.suppress(VoucherCode.DoesNotExist):
                    code = (
                        VoucherCode.objects.select_for_update(of=("self",))
                        .select_related("batch", "batch__plan")
                        .get(pin_digest=pin_digest(clean))
                    )
            if code is None or code.status != VoucherStatus.ACTIVE or code.batch.expires_on < clock.today():
                raise VoucherInvalid()
            batch = code.batch
            plan = batch.plan
            if plan is None:
                return _wallet_card_redeem(code, redeemer=redeemer, holder=holder, ip=ip, channel=channel)
            if line is None and carrier is None:
                raise line_required
            if (line.carrier_id if line is not None else carrier.pk if carrier else None) != plan.carrier_id:
                raise VoucherWrongCarrier()
            if line is None:
                assert carrier is not None
                line = _gift_line(redeemer=holder or redeemer, msisdn=msisdn, carrier=carrier)
            order = order_create(
                payer=holder or redeemer,
                line=line,
                plan=plan,
                payment_method=PaymentMethod.VOUCHER,
                channel=Channel.VOUCHER,
                # Read with the carrier's account, in one query.
                source_account=_liability_spec(batch),
            )
            if order.total != batch.face:
                # The plan's price moved since the batch was sold: the liability keeps one face value
                # per live code, and the difference is the operator's.
                difference = batch.face - order.total
                ledger_post(
                    kind="voucher_price_difference",
                    idempotency_key=f"voucher:{code.pk}:difference",
                    postings=[
                        (_liability(batch), -difference),
                        (
                            account_system(kind="adjustments", currency=batch.currency, key="vouchers"),
                            difference,
                        ),
                    ],
                    reference=f"order:{order.pk}",
                )
            _code_redeemed(code, redeemer=redeemer, ip=ip, channel=channel, order=order)
            if on_redeemed is not None:
                on_redeemed(order)
    except (VoucherInvalid, VoucherWrongCarrier):
        _failure_record(redeemer, ip, channel, code)
        raise
    return order
