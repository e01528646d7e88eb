"""`vigencia simulate --lines N --months M --failure-rate F --seed S [--json]`."""

from __future__ import annotations

import json
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from tqdm import tqdm

from vigencia.core import clock
from vigencia.core.cli import number
from vigencia.lines.simulate import simulate


def _minor(amounts: dict[str, int]) -> str:
    return ", ".join(f"{currency} {amount / 100:,.2f}" for currency, amount in sorted(amounts.items())) or "0"


class _Uncoloured:
    """The command's stderr for the progress bar, without the red Django gives errors on a terminal:
    a progress bar is not an error."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.out.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.out, name)


class Command(BaseCommand):
    help = (
        "Play a synthetic population of lines through simulated time with the real services (sweep, "
        "reminders, auto-renew, order pipeline, carrier simulator with faults); nothing is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lines", type=number(int, low=1), default=1000)
        parser.add_argument("--months", type=number(int, low=1, high=1200), default=12)
        parser.add_argument("--failure-rate", type=number(float, low=0, below=1), default=0.1)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = (clock.today() + relativedelta(months=options["months"]) - clock.today()).days
        bar = tqdm(
            total=days, unit="day", desc="simulating", disable=options["json"], file=_Uncoloured(self.stderr)
        )

        def progress(done: int) -> None:
            bar.update(done - bar.n)

        try:
            report = simulate(
                lines=options["lines"],
                months=options["months"],
                failure_rate=options["failure_rate"],
                seed=options["seed"],
                progress=progress,
            )
        except ValueError as error:
            raise CommandError(str(error))
        finally:
            bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        out = self.stdout.write
        out(f"lines: {report.lines} over {report.months} months ({report.days} days), seed {report.seed}")
        out(f"behaviours: {report.by_behaviour}")
        out(f"numbers lost: {report.numbers_lost}")
        out(
            f"numbers lost among funded auto-renew lines: {report.numbers_lost_funded_autorenew} "
            f"of {report.funded_autorenew_lines}"
        )
        out(f"renewals: {report.renewals} (auto-renew: {report.autorenewals})")
        out(f"orders not completed (declined and refunded, or open): {report.renewal_failures}")
        out(f"carrier faults injected: {report.carrier_faults} (failure rate {report.failure_rate})")
        out(f"total cost: {_minor(report.total_cost)}")
        out(
            f"funded auto-renew cost: {_minor(report.autorenew_cost)} vs planner's optimal "
            f"(stay active): {_minor(report.planner_optimal_cost)}"
        )
        out(f"reminders sent: {report.reminders_sent}")
        out(f"time: {report.seconds} s")
