from django.urls import path

from vigencia.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.carriers, name="carriers"),
    path("<str:code>/", views.carrier_detail, name="carrier"),
]
