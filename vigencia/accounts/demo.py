"""Demo people, one per role. Password for all: vigencia-demo."""

from __future__ import annotations

from typing import TextIO

from django.contrib.auth.models import Group

from vigencia.accounts import roles
from vigencia.accounts.models import User

DEMO_PASSWORD = "vigencia-demo"

DEMO_USERS = [
    # email, name, language, role, staff
    ("ana@demo.vigencia.pe", "Ana Quispe", "es", roles.SUBSCRIBER, False),
    ("li.wei@demo.vigencia.pe", "李伟 Li Wei", "zh-hans", roles.SUBSCRIBER, False),
    ("tom@demo.vigencia.pe", "Tom Baker", "en", roles.SUBSCRIBER, False),
    ("operator@demo.vigencia.pe", "Olga Operator", "es", roles.OPERATOR, True),
    ("support@demo.vigencia.pe", "Sam Support", "en", roles.SUPPORT, True),
    ("agent@demo.vigencia.pe", "Carlos Agente", "es", roles.STORE_AGENT, False),
    ("reseller@demo.vigencia.pe", "Rosa Reseller", "es", roles.RESELLER, False),
]


def seed(out: TextIO) -> None:
    roles.roles_ensure()
    for email, name, language, role, staff in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, name=name, language=language, is_staff=staff
            )
        user.groups.add(Group.objects.get(name=role))
    out.write(f"accounts: {len(DEMO_USERS)} demo users")
