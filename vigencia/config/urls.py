from django.contrib import admin
from django.urls import include, path

from vigencia.config.api import api
from vigencia.core.views import healthz
from vigencia.support import views as support_views

admin.site.site_header = "Vigencia"
admin.site.site_title = "Vigencia back office"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Closing an account, or taking its data, touches every app's records: the top app's views (support).
    path("accounts/close/", support_views.account_close_page, name="account_close"),
    path("accounts/data/", support_views.account_data_download, name="account_data"),
    path("accounts/", include("vigencia.accounts.urls")),
    path("lines/", include("vigencia.lines.urls")),
    path("plans/compare/", include("vigencia.catalog.compare_urls")),
    path("plans/", include("vigencia.catalog.urls")),
    path("payments/", include("vigencia.payments.urls")),
    path("", include("vigencia.orders.urls")),
    path("stores/", include("vigencia.stores.urls")),
    path("receipts/", include("vigencia.stores.receipt_urls")),
    path("usage/", include("vigencia.usage.urls")),
    path("vouchers/", include("vigencia.vouchers.urls")),
    path("support/", include("vigencia.support.urls")),
    path("messages/", include("vigencia.notifications.urls")),
    path("backoffice/", include("vigencia.support.backoffice_urls")),
    path("", include("vigencia.core.urls")),
]

handler400 = "vigencia.core.views.bad_request"
handler403 = "vigencia.core.views.permission_denied"
handler404 = "vigencia.core.views.page_not_found"
handler500 = "vigencia.core.views.server_error"
