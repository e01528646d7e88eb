"""Background jobs of the vouchers app (thin: each calls a service)."""

from django_tasks import task

from vigencia.vouchers.services import attempt_counters_purge, voucher_expire


@task()
def voucher_expire_task() -> int:
    """Periodic (VIGENCIA_PERIODIC_JOBS["vouchers.expire"]): expire codes past their date (breakage)."""
    return voucher_expire()


@task()
def attempt_counters_purge_task() -> int:
    """Periodic (VIGENCIA_PERIODIC_JOBS["vouchers.counters"]): drop brute-force counters of ended windows."""
    return attempt_counters_purge()
