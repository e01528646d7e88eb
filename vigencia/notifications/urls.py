from django.urls import path

from vigencia.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("telegram/", views.telegram, name="telegram"),
]
