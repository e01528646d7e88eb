from django.urls import path

from vigencia.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.language_set, name="language"),
]
