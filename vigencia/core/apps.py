from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vigencia.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models import IntegerField

        from vigencia.core.db import IntegerIn

        IntegerField.register_lookup(IntegerIn)
