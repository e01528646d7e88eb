from django.urls import path

from vigencia.usage import views

app_name = "usage"
urlpatterns = [path("lines/<int:line_id>/statement/", views.statement_page, name="statement")]
