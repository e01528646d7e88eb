from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vigencia.core"
    label = "core"
