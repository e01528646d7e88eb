"""Background jobs: thin wrappers around the usage services."""

from __future__ import annotations

from django_tasks import task

from vigencia.usage import services


@task()
def usage_rate_task() -> int:
    return services.usage_rate_pending()


@task()
def bucket_expire_task() -> int:
    return services.bucket_expire_sweep()
