from django.urls import path

from vigencia.lines import views

app_name = "lines"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("add/", views.line_add_view, name="add"),
    path("<int:line_id>/", views.line_detail, name="detail"),
    path("<int:line_id>/edit/", views.line_edit, name="edit"),
    path("<int:line_id>/remove/", views.line_remove_view, name="remove"),
]
