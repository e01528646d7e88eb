"""The public receipt check, at /receipts/ (the QR code on every store receipt links here)."""

from django.urls import path

from vigencia.stores import pos_views

app_name = "receipts"
urlpatterns = [
    path("verify", pos_views.receipt_check, name="verify"),
]
