"""Background jobs of the vouchers app (thin: each calls a service)."""

from django_tasks import task

from vigencia.vouchers.services import voucher_expire


@task()
def voucher_expire_task() -> int:
    """Periodic (VIGENCIA_PERIODIC_JOBS["vouchers.expire"]): expire codes past their date (breakage)."""
    return voucher_expire()
