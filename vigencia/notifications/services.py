"""Notification writes: the outbox (send), its delivery with retries, and the user's webhook endpoint."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.notifications.channels import DeliveryError, channel_deliver
from vigencia.notifications.channels.webhook import address_is_public
from vigencia.notifications.models import (
    NOTIFICATION_TRANSITIONS,
    Channel,
    Notification,
    NotificationEvent,
    NotificationEventKind,
    NotificationStatus,
    WebhookEndpoint,
)
from vigencia.notifications.rendering import KINDS, context_dates, render
from vigencia.notifications.selectors import channels_reachable_of

logger = logging.getLogger(__name__)

MAX_DEDUPE_KEY_LENGTH = 200
MAX_URL_LENGTH = 500


def _validated_context(kind: str, context: Any) -> dict[str, Any]:
    if kind not in KINDS:
        raise InvalidInput(
            _("Unknown kind of notification."), code="unknown_notification_kind", details={"kind": kind}
        )
    if not isinstance(context, dict):
        raise InvalidInput(_("The notification's context must be an object."), code="invalid_context")
    missing = sorted(KINDS[kind] - context.keys())
    if missing:
        raise InvalidInput(
            _("The notification's context is incomplete."),
            code="invalid_context",
            details={"missing": missing},
        )
    try:
        context_dates(context)
        # Stored as JSON and rendered later: a value that would not survive the trip is refused now.
        return dict(json.loads(json.dumps(context, allow_nan=False)))
    except (TypeError, ValueError):
        raise InvalidInput(
            _("The notification's context must be JSON with ISO dates."), code="invalid_context"
        )


def _default_channels(user: User) -> list[str]:
    return _default_channels_of({user})[user.pk]


def notification_send(
    *, user: User, kind: str, context: dict[str, Any], dedupe_key: str, channels: list[str] | None = None
) -> list[Notification]:
    """Put a notification in the outbox: one row per channel, each with its delivery task enqueued in
    the caller's transaction, so it exists (and is sent) if and only if that transaction commits.

    Idempotent per `dedupe_key`: once rows exist for the key, a repeat writes nothing and returns them
    (unique (dedupe_key, channel); a concurrent duplicate waits on that index, then returns the
    winner's rows). Rendering happens at delivery, in the user's language then. Default channels:
    email, plus webhook when the user has an active endpoint and Telegram when they connected a chat
    (`_default_channels_of`). Raises InvalidInput for an unknown kind
    or channel or an incomplete context, Conflict when the key is another user's; writes nothing then."""
    from vigencia.notifications.tasks import notification_deliver_task

    context = _validated_context(kind, context)
    dedupe_key = (dedupe_key or "").strip()
    if not dedupe_key or len(dedupe_key) > MAX_DEDUPE_KEY_LENGTH:
        raise InvalidInput(_("A dedupe key of 1 to 200 characters is needed."), code="invalid_dedupe_key")
    wanted = list(dict.fromkeys(channels if channels is not None else _default_channels(user)))
    unknown = [channel for channel in wanted if channel not in Channel.values]
    if unknown or not wanted:
        raise InvalidInput(
            _("Unknown notification channel."),
            code="unknown_channel",
            details={"channels": unknown, "allowed": Channel.values},
        )

    existing = list(Notification.objects.filter(dedupe_key=dedupe_key).order_by("id"))
    if existing:
        return _repeat(existing, user)
    created = []
    try:
        with transaction.atomic():
            for channel in wanted:
                notification = Notification.objects.create(
                    user=user, kind=kind, channel=channel, context=context, dedupe_key=dedupe_key
                )
                NotificationEvent.objects.create(notification=notification, kind=NotificationEventKind.QUEUED)
                notification_deliver_task.enqueue(notification.pk)
                created.append(notification)
    except IntegrityError:
        # A concurrent call with the same key committed first: its rows are the answer.
        return _repeat(list(Notification.objects.filter(dedupe_key=dedupe_key).order_by("id")), user)
    return created


def _repeat(existing: list[Notification], user: User) -> list[Notification]:
    if any(notification.user_id != user.pk for notification in existing):
        raise Conflict(_("This dedupe key was already used for someone else."), code="dedupe_key_reused")
    return existing


@dataclass(frozen=True)
class NotificationRequest:
    """One notification for `notification_send_many` (the same fields as `notification_send`)."""

    user: User
    kind: str
    context: dict[str, Any]
    dedupe_key: str
    channels: list[str] | None = None


DELIVERY_BATCH = 200  # outbox rows per delivery task enqueued by `notification_send_many`


def notification_send_many(requests: Sequence[NotificationRequest]) -> list[Notification]:
    """`notification_send` for many notifications at once, set-based: every request is validated
    first (InvalidInput or Conflict, and nothing is written), one query finds the keys already used,
    the new rows and their `queued` events are inserted in bulk, and one delivery task is enqueued
    per DELIVERY_BATCH rows, all in the caller's transaction. The same guarantees per dedupe key as
    `notification_send` (a repeated key writes nothing; a concurrent duplicate falls back to it)."""
    from vigencia.notifications.tasks import notification_deliver_many_task

    wanted: dict[str, tuple[NotificationRequest, dict[str, Any], list[str]]] = {}
    defaults = _default_channels_of({request.user for request in requests if request.channels is None})
    for request in requests:
        context = _validated_context(request.kind, request.context)
        key = (request.dedupe_key or "").strip()
        if not key or len(key) > MAX_DEDUPE_KEY_LENGTH:
            raise InvalidInput(_("A dedupe key of 1 to 200 characters is needed."), code="invalid_dedupe_key")
        channels = list(
            dict.fromkeys(request.channels if request.channels is not None else defaults[request.user.pk])
        )
        unknown = [channel for channel in channels if channel not in Channel.values]
        if unknown or not channels:
            raise InvalidInput(
                _("Unknown notification channel."),
                code="unknown_channel",
                details={"channels": unknown, "allowed": Channel.values},
            )
        if key in wanted and wanted[key][0].user.pk != request.user.pk:
            raise Conflict(_("This dedupe key was already used for someone else."), code="dedupe_key_reused")
        wanted.setdefault(key, (request, context, channels))

    existing: dict[str, list[Notification]] = {}
    for notification in Notification.objects.filter(dedupe_key__in=list(wanted)).order_by("id"):
        existing.setdefault(notification.dedupe_key, []).append(notification)
    repeated = [row for key, rows in existing.items() for row in _repeat(rows, wanted[key][0].user)]
    rows = [
        Notification(user=request.user, kind=request.kind, channel=channel, context=context, dedupe_key=key)
        for key, (request, context, channels) in wanted.items()
        if key not in existing
        for channel in channels
    ]
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(rows, batch_size=1_000)
            NotificationEvent.objects.bulk_create(
                [
                    NotificationEvent(notification=notification, kind=NotificationEventKind.QUEUED)
                    for notification in created
                ],
                batch_size=1_000,
            )
            for first in range(0, len(created), DELIVERY_BATCH):
                notification_deliver_many_task.enqueue(
                    [notification.pk for notification in created[first : first + DELIVERY_BATCH]]
                )
    except IntegrityError:
        # A concurrent sender committed one of these keys first: one by one, each key's race is settled.
        return [
            row
            for request, context, channels in wanted.values()
            for row in notification_send(
                user=request.user,
                kind=request.kind,
                context=context,
                dedupe_key=request.dedupe_key,
                channels=channels,
            )
        ]
    return repeated + created


def _default_channels_of(users: set[User]) -> dict[int, list[str]]:
    """The channels a notification goes by unless its sender chooses: email, the webhook when the
    user has an active endpoint, Telegram when they connected a chat (one query for all users)."""
    defaults = (Channel.EMAIL.value, Channel.WEBHOOK.value, Channel.TELEGRAM.value)
    return {
        pk: [channel for channel in defaults if channel in reachable]
        for pk, reachable in channels_reachable_of(users).items()
    }


def _backoff(attempts: int) -> timedelta | None:
    """The wait before the next attempt after `attempts` failed ones, or None when none is left."""
    if attempts >= settings.VIGENCIA_NOTIFICATION_MAX_ATTEMPTS:
        return None
    schedule = settings.VIGENCIA_NOTIFICATION_BACKOFF_SECONDS
    return timedelta(seconds=schedule[min(attempts, len(schedule)) - 1])


def notification_deliver(*, notification_id: int) -> str | None:
    """Try to deliver one outbox row once; returns its status afterwards (None if it was not ours to
    send: already sent or failed, or claimed by another worker).

    The row is first claimed by a conditional update (pending and not claimed by a live worker) that
    also counts the attempt, so two workers never send it at once. On a failure the next attempt is
    enqueued with exponential backoff (the task's run_after); after the last one the row is failed.
    Delivery to the outside world is at least once: a worker that dies between sending and recording
    leaves a claim that expires, and `notification_requeue_stale` sends it again."""
    now = clock.now()
    lease = timedelta(seconds=settings.VIGENCIA_NOTIFICATION_CLAIM_SECONDS)
    claimed = (
        Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=now + lease, attempts=F("attempts") + 1, next_attempt_at=None)
    )
    if claimed != 1:
        return None
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    failed = _attempt(notification)
    if failed is None:
        with transaction.atomic():
            NOTIFICATION_TRANSITIONS.apply(
                notification,
                field="status",
                target=NotificationStatus.SENT,
                sent_at=clock.now(),
                claimed_until=None,
                last_error="",
            )
            NotificationEvent.objects.create(
                notification=notification,
                kind=NotificationEventKind.SENT,
                data={"attempt": notification.attempts},
            )
        return notification.status
    return _record_failure(notification, failure=failed[0], permanent=failed[1], now=now)


def _record_failure(notification: Notification, *, failure: str, permanent: bool, now: datetime) -> str:
    """A failed attempt: the next one is enqueued with backoff, or the row fails after the last."""
    from vigencia.notifications.tasks import notification_deliver_task

    failure = failure[:2000]
    wait = None if permanent else _backoff(notification.attempts)
    with transaction.atomic():
        if wait is None:
            NOTIFICATION_TRANSITIONS.apply(
                notification,
                field="status",
                target=NotificationStatus.FAILED,
                claimed_until=None,
                last_error=failure,
            )
            NotificationEvent.objects.create(
                notification=notification,
                kind=NotificationEventKind.FAILED,
                data={"attempt": notification.attempts, "error": failure},
            )
            return notification.status
        retry_at = now + wait
        Notification.objects.filter(pk=notification.pk).update(
            claimed_until=None, last_error=failure, next_attempt_at=retry_at
        )
        NotificationEvent.objects.create(
            notification=notification,
            kind=NotificationEventKind.ATTEMPT_FAILED,
            data={"attempt": notification.attempts, "error": failure, "retry_at": retry_at.isoformat()},
        )
        notification_deliver_task.using(run_after=retry_at).enqueue(notification.pk)
    return notification.status


def _attempt(notification: Notification) -> tuple[str, bool] | None:
    """Render and hand one claimed row to its channel; None when delivered, else (error, permanent)."""
    if not notification.user.is_active:
        return "the account is inactive (closed)", True
    try:
        rendered = render(
            kind=notification.kind, context=notification.context, language=notification.user.language
        )
        channel_deliver(notification.channel)(notification, rendered)
    except DeliveryError as error:
        return str(error), error.permanent
    except Exception as error:  # a mail server, a network or a gateway failing: retry it
        logger.warning("notification %s not delivered: %s", notification.pk, error)
        return f"{type(error).__name__}: {error}", False
    return None


def notification_deliver_many(*, notification_ids: Sequence[int]) -> dict[str, int]:
    """`notification_deliver` for many rows at once: the pending, unclaimed ones are claimed together
    (row locks, then one UPDATE that counts the attempt), each is rendered and handed to its channel,
    and the delivered ones are marked sent with one UPDATE and their events in one insert. A failed
    row goes the way `notification_deliver` sends it (retry with backoff, or failed). Rows another
    worker holds are skipped. Returns counts by outcome."""
    now = clock.now()
    lease = timedelta(seconds=settings.VIGENCIA_NOTIFICATION_CLAIM_SECONDS)
    NOTIFICATION_TRANSITIONS.check(NotificationStatus.PENDING, NotificationStatus.SENT)
    # The rows are found by primary key alone and the claim checked on the locked rows: the
    # status index is for finding due rows, and walking it for a handful of ids costs what every
    # row ever left pending there costs until vacuum.
    with transaction.atomic():
        rows = [
            row
            for row in Notification.objects.filter(pk__in=notification_ids)
            .select_related("user")
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
            if row.status == NotificationStatus.PENDING
            and (row.claimed_until is None or row.claimed_until <= now)
        ]
        Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
            claimed_until=now + lease, attempts=F("attempts") + 1, next_attempt_at=None
        )
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    delivered = []
    for notification in rows:
        notification.attempts += 1
        failed = _attempt(notification)
        if failed is None:
            delivered.append(notification)
            continue
        status = _record_failure(notification, failure=failed[0], permanent=failed[1], now=now)
        counts["failed" if status == NotificationStatus.FAILED else "retrying"] += 1
    with transaction.atomic():
        # Still pending (a claim that ran out may have been taken over): by primary key, as above.
        Notification.objects.filter(pk__in=[row.pk for row in delivered]).exclude(
            status__in=[NotificationStatus.SENT, NotificationStatus.FAILED]
        ).update(status=NotificationStatus.SENT, sent_at=clock.now(), claimed_until=None, last_error="")
        NotificationEvent.objects.bulk_create(
            [
                NotificationEvent(
                    notification=row, kind=NotificationEventKind.SENT, data={"attempt": row.attempts}
                )
                for row in delivered
            ],
            batch_size=1_000,
        )
    counts["sent"] = len(delivered)
    return counts


def notification_requeue_stale() -> int:
    """Enqueue again the pending rows whose worker's claim ran out (it died mid-send), so none is
    stuck; returns how many. Safe to repeat: delivery claims each row before sending it."""
    from vigencia.notifications.tasks import notification_deliver_task

    ids = list(
        Notification.objects.filter(status=NotificationStatus.PENDING, claimed_until__lte=clock.now())
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    with transaction.atomic():
        for notification_id in ids:
            notification_deliver_task.enqueue(notification_id)
    return len(ids)


def _is_internal_host(host: str) -> bool:
    """localhost or an IP literal that is not public (loopback, private, link-local such as the
    cloud metadata address): a subscriber's URL must not make the platform call its own network."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not address_is_public(host)
    except ValueError:  # a name: checked when a webhook connects (channels.webhook)
        return False


def _validated_url(url: str) -> str:
    url = (url or "").strip()
    try:
        if len(url) > MAX_URL_LENGTH:
            raise ValidationError("too long")
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid http or https URL."), code="invalid_webhook_url", details={"field": "url"}
        )
    if not settings.VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS and _is_internal_host(urlsplit(url).hostname or ""):
        raise InvalidInput(
            _("Webhooks go to public addresses only."), code="invalid_webhook_url", details={"field": "url"}
        )
    return url


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_endpoint_set(
    *, user: User, url: str, active: bool = True, rotate_secret: bool = False
) -> tuple[WebhookEndpoint, str | None]:
    """Create or change the user's webhook endpoint (one per user; its row is locked while it
    changes). Returns the endpoint and its signing secret when one was just made (on creation or
    rotation), else None: the secret is shown once. Raises InvalidInput for a URL that is not http(s)
    with a valid host; nothing is written then."""
    url = _validated_url(url)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(user=user).first()
        if endpoint is None:
            try:
                with transaction.atomic():
                    endpoint = WebhookEndpoint.objects.create(
                        user=user, url=url, active=active, secret=_new_secret()
                    )
                return endpoint, endpoint.secret
            except IntegrityError:  # a concurrent first PUT won: change its row instead
                endpoint = WebhookEndpoint.objects.select_for_update().get(user=user)
        endpoint.url, endpoint.active = url, active
        fields = ["url", "active", "updated_at"]
        if rotate_secret:
            endpoint.secret = _new_secret()
            fields.append("secret")
        endpoint.save(update_fields=fields)
    return endpoint, endpoint.secret if rotate_secret else None


def webhook_endpoint_delete(*, user: User) -> bool:
    """Remove the user's endpoint; idempotent. Webhooks still pending then fail (no endpoint)."""
    deleted, _rows = WebhookEndpoint.objects.filter(user=user).delete()
    return deleted > 0
