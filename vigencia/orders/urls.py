from django.urls import path

from vigencia.orders import views

app_name = "orders"
urlpatterns = [
    path("renew/<int:line_id>/", views.renew_choose, name="renew"),
    path("renew/<int:line_id>/<int:plan_id>/", views.renew_review, name="review"),
    path("orders/", views.order_history, name="list"),
    path("orders/<int:order_id>/", views.order_detail, name="detail"),
    path("orders/<int:order_id>/status/", views.order_status, name="status"),
    path("orders/<int:order_id>/receipt/", views.order_receipt, name="receipt"),
    path("wallet/", views.wallet, name="wallet"),
]
