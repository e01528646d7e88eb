from django.urls import path

from vigencia.stores import views

app_name = "stores"
urlpatterns = [
    path("", views.locator, name="locator"),
]
