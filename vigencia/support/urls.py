from django.urls import path

from vigencia.support import views

app_name = "support"
urlpatterns = [
    path("", views.ticket_list_page, name="list"),
    path("new/", views.ticket_new, name="new"),
    path("<int:ticket_id>/", views.ticket_detail, name="detail"),
]
