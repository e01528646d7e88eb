from django.urls import path

from vigencia.payments import views

app_name = "payments"
urlpatterns = [
    path("sandbox/checkout/<str:public_id>/", views.checkout, name="checkout"),
    path("sandbox/checkout/<str:public_id>/authorise/", views.authorise, name="authorise"),
    path("sandbox/checkout/<str:public_id>/paypal-return/", views.paypal_return, name="paypal_return"),
    path("sandbox/paypal/<str:public_id>/", views.paypal, name="paypal"),
    path("<str:public_id>/", views.status, name="status"),
]
