from django.urls import path

from vigencia.usage import views

app_name = "usage"
urlpatterns = [
    path("lines/<int:line_id>/statement/", views.statement_page, name="statement"),
    path("lines/<int:line_id>/statement.csv", views.statement_file, {"fmt": "csv"}, name="statement_csv"),
    path("lines/<int:line_id>/statement.pdf", views.statement_file, {"fmt": "pdf"}, name="statement_pdf"),
]
