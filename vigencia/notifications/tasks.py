"""Background work for notifications: thin wrappers around the services."""

from __future__ import annotations

from django_tasks import task

from vigencia.notifications import services


@task()
def notification_deliver_task(notification_id: int) -> str | None:
    return services.notification_deliver(notification_id=notification_id)


@task()
def notification_deliver_many_task(notification_ids: list[int]) -> dict[str, int]:
    return services.notification_deliver_many(notification_ids=notification_ids)


@task()
def notification_requeue_stale_task() -> int:
    return services.notification_requeue_stale()
