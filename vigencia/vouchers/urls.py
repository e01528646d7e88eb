from django.urls import path

from vigencia.vouchers import views

app_name = "vouchers"
urlpatterns = [
    path("redeem/", views.redeem_page, name="redeem"),
    path("verify/", views.verify_page, name="verify"),
    path("resellers/", views.resellers_page, name="resellers"),
    path("reseller/", views.reseller_dashboard, name="reseller"),
    path("reseller/buy/", views.reseller_buy, name="reseller_buy"),
    path("reseller/batches/<int:batch_id>/download/", views.reseller_download, name="reseller_download"),
    path("reseller/batches/<int:batch_id>/void/", views.reseller_void, name="reseller_void"),
    path("reseller/keys/<int:key_id>/revoke/", views.reseller_key_revoke, name="reseller_key_revoke"),
    path("operator/", views.operator_page, name="operator"),
    path("operator/batches/", views.operator_batch_create, name="operator_batch_create"),
    path(
        "operator/batches/<int:batch_id>/download/", views.operator_batch_download, name="operator_download"
    ),
    path(
        "operator/batches/<int:batch_id>/activate/", views.operator_batch_activate, name="operator_activate"
    ),
    path("operator/batches/<int:batch_id>/void/", views.operator_batch_void, name="operator_void"),
]
