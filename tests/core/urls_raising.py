"""The project's URLs plus a page and an API path that fail, for the 500 pages."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from vigencia.config.urls import handler400, handler403, handler404, handler500, urlpatterns


def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("explode/", explode), path("api/explode/", explode), *urlpatterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
