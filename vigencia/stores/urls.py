from django.urls import path

from vigencia.stores import pos_views, views

app_name = "stores"
urlpatterns = [
    path("", views.locator, name="locator"),
    path("pos/", pos_views.pos_home, name="pos"),
    path("pos/shift/open/", pos_views.pos_shift_open, name="pos_shift_open"),
    path("pos/shift/close/", pos_views.pos_shift_close, name="pos_shift_close"),
    path("pos/shifts/<int:shift_id>/", pos_views.pos_shift, name="pos_shift"),
    path("pos/sale/", pos_views.pos_sale, name="pos_sale"),
    path("pos/voucher/", pos_views.pos_voucher, name="pos_voucher"),
    path("pos/receipts/<str:number>/", pos_views.pos_receipt, name="pos_receipt"),
    path("pos/receipts/<str:number>/pdf/", pos_views.pos_receipt_pdf, name="pos_receipt_pdf"),
    path(
        "pos/receipts/<str:number>/cash-returned/",
        pos_views.pos_receipt_cash_return,
        name="pos_receipt_cash_return",
    ),
]
