from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "vigencia.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from vigencia.accounts.roles import roles_ensure

        # Set-up, not a domain flow: the role groups exist on every database once migrated. Not
        # limited to this app's signal: later apps' permissions exist only once they have migrated.
        post_migrate.connect(roles_ensure, dispatch_uid="vigencia.accounts.roles_ensure")
