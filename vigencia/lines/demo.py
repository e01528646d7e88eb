"""Demo lines for the demo subscribers, with deadlines spread from urgent to comfortable."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.lines.models import Line
from vigencia.lines.services import line_add

# owner, number, carrier, nickname, days since the last recharge
DEMO_LINES = [
    ("ana@demo.vigencia.pe", "+51 987 654 321", "claro-pe", "Mi celular", 20),
    ("ana@demo.vigencia.pe", "+51 955 111 222", "bitel-pe", "Mamá", 250),
    ("li.wei@demo.vigencia.pe", "+51 944 333 444", "movistar-pe", "秘鲁工作号", 200),
    ("li.wei@demo.vigencia.pe", "+86 138 0013 8000", "china-mobile-cn", "国内号码", 25),
    ("tom@demo.vigencia.pe", "+44 7400 123456", "giffgaff-uk", "UK number", 150),
]


def seed(out: TextIO) -> None:
    for email, number, carrier_code, nickname, days_ago in DEMO_LINES:
        owner = User.objects.get(email=email)
        carrier = Carrier.objects.get(code=carrier_code)
        if Line.objects.filter(
            owner=owner, carrier=carrier, removed_at__isnull=True, nickname=nickname
        ).exists():
            continue
        line_add(
            owner=owner,
            msisdn=number,
            carrier=carrier,
            nickname=nickname,
            last_recharge_at=clock.today(owner.timezone) - timedelta(days=days_ago),
        )
    out.write(f"lines: {Line.objects.filter(owner__email__endswith='@demo.vigencia.pe').count()} demo lines")
