from django.urls import path

from vigencia.support import views_backoffice as views

app_name = "backoffice"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path("tickets/", views.queue, name="queue"),
    path("tickets/<int:ticket_id>/", views.ticket, name="ticket"),
    path("actions/<int:action_id>/approve/", views.action_decide, name="action_decide"),
]
