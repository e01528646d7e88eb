"""Read-only back office for the ledger: it is append-only, so nothing is added or changed here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from vigencia.core.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from vigencia.ledger.models import LedgerAccount, LedgerTransaction, Posting


class PostingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Posting
    fields = ("account", "amount_display")
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("amount"))
    def amount_display(self, posting: Posting) -> str:
        return str(posting.amount)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "kind", "currency", "owner", "balance_display")
    list_filter = ("kind", "currency")
    search_fields = ("code", "owner__email")

    @admin.display(description=_("balance"), ordering="balance_minor")
    def balance_display(self, account: LedgerAccount) -> str:
        return str(account.balance)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "reference", "memo")
    list_filter = ("kind",)
    search_fields = ("reference", "memo", "idempotency_key")
    date_hierarchy = "created_at"
    inlines = [PostingInline]
