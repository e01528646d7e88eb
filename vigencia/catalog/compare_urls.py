from django.urls import path

from vigencia.catalog import views_compare

app_name = "compare"
urlpatterns = [path("", views_compare.compare, name="plans")]
