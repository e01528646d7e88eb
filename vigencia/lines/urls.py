from django.urls import path

from vigencia.lines import views, views_keepalive

app_name = "lines"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("add/", views.line_add_view, name="add"),
    path("calendar/<slug:key>.ics", views.calendar_feed, name="calendar"),
    path("<int:line_id>/", views.line_detail, name="detail"),
    path("<int:line_id>/edit/", views.line_edit, name="edit"),
    path("<int:line_id>/remove/", views.line_remove_view, name="remove"),
    path("<int:line_id>/reminders/", views_keepalive.line_reminders_save, name="reminders"),
    path("<int:line_id>/auto-renew/", views_keepalive.line_autorenew_save, name="autorenew"),
    path("<int:line_id>/plan-to-auto-renew/", views_keepalive.line_plan_to_autorenew, name="plan_autorenew"),
]
