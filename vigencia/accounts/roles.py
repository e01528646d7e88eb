"""Roles are groups; each names the permissions its people need in the back office."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

SUBSCRIBER = "subscriber"
STORE_AGENT = "store_agent"
RESELLER = "reseller"
SUPPORT = "support"
OPERATOR = "operator"

ROLE_LABELS = {
    SUBSCRIBER: _("Subscriber"),
    STORE_AGENT: _("Store agent"),
    RESELLER: _("Reseller"),
    SUPPORT: _("Support agent"),
    OPERATOR: _("Operator"),
}

# app label -> permission codenames per role ("*" = every permission of the app's models, "view_*" =
# every view permission of them).
ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    SUBSCRIBER: {},
    STORE_AGENT: {"lines": ["view_line"], "catalog": ["view_carrier", "view_plan"]},
    RESELLER: {"catalog": ["view_carrier", "view_plan"]},
    SUPPORT: {
        "accounts": ["view_user"],
        "lines": ["view_line", "view_lineevent"],
        "catalog": ["view_carrier", "view_plan"],
    },
    OPERATOR: {
        "catalog": ["*"],
        "lines": ["*"],
        "accounts": ["view_user", "change_user"],
        # Stores with their services, hours and holidays; agents (deactivated, not deleted); shifts to
        # review; receipts to read.
        "stores": [
            *(
                f"{action}_{model}"
                for action in ("add", "change", "delete", "view")
                for model in ("store", "storeservice", "openinghours", "holiday")
            ),
            *("add_storeagent", "change_storeagent", "view_storeagent"),
            *("view_shift", "change_shift", "view_receipt"),
        ],
        # The money, the orders and everything that happened to them are read, never edited by hand:
        # changes go through the services (refunds and goodwill through support).
        **{
            app: ["view_*"]
            for app in ("orders", "payments", "fulfilment", "ledger", "notifications", "vouchers", "support")
        },
        "usage": ["view_*", "add_tariff", "change_tariff", "add_alertrule", "change_alertrule"],
    },
}


def is_operator(user: Any) -> bool:
    """Runs the business: a superuser or someone with the operator role (support agents are staff too,
    and may not)."""
    return bool(user.is_authenticated and (user.is_superuser or user.groups.filter(name=OPERATOR).exists()))


def role_required(test: Callable[[Any], bool]) -> Callable[[Any], Any]:
    """A page for one role: a visitor who is not signed in goes to the login page, a signed-in person
    without the role gets the 403 page. (user_passes_test sent both to the login page, which sends a
    signed-in person straight back: an endless redirect.)"""

    def decorator(view: Any) -> Any:
        @login_required
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def roles_ensure(**_: Any) -> None:
    """Create the role groups and grant their permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    for role, grants in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        for app_label, codenames in grants.items():
            permissions = Permission.objects.filter(content_type__app_label=app_label)
            if "*" not in codenames:
                chosen = Q(codename__in=codenames)
                for prefix in (codename[:-1] for codename in codenames if codename.endswith("*")):
                    chosen |= Q(codename__startswith=prefix)
                permissions = permissions.filter(chosen)
            group.permissions.add(*permissions)
