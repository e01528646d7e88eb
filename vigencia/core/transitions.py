"""Explicit transition tables for state fields, applied with a conditional update.

Every state field (order, payment, line, voucher, ticket) declares its table once; a service moves a
row only through `apply`, which updates `WHERE pk = .. AND state = <expected>` so that two racing
writers cannot both make the same move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from django.db import models

from vigencia.core.db import rows_update
from vigencia.core.errors import Conflict


class IllegalTransition(Conflict):
    code = "illegal_transition"


class TransitionTable:
    def __init__(self, name: str, allowed: Mapping[str, Iterable[str]]) -> None:
        self.name = name
        self.allowed = {source: frozenset(targets) for source, targets in allowed.items()}

    def can(self, source: str, target: str) -> bool:
        return target in self.allowed.get(source, ())

    def sources_of(self, target: str) -> list[str]:
        return sorted(source for source, targets in self.allowed.items() if target in targets)

    def check(self, source: str, target: str) -> None:
        if not self.can(source, target):
            raise IllegalTransition(
                f"{self.name} cannot go from {source} to {target}.",
                details={"from": source, "to": target},
            )

    def apply(self, instance: models.Model, *, field: str, target: str, **changes: Any) -> str:
        """Move `instance` to `target`; returns the state it left. Raises IllegalTransition if the
        move is not in the table or another writer moved the row first."""
        source = getattr(instance, field)
        self.check(source, target)
        model = type(instance)
        updated = model._default_manager.filter(pk=instance.pk, **{field: source}).update(
            **{field: target}, **changes
        )
        if updated != 1:
            current = model._default_manager.filter(pk=instance.pk).values_list(field, flat=True).first()
            raise IllegalTransition(
                f"{self.name} is no longer {source}.",
                details={"from": source, "to": target, "current": current},
            )
        setattr(instance, field, target)
        for name, value in changes.items():
            if not hasattr(value, "resolve_expression"):
                setattr(instance, name, value)
        return source

    def apply_many(
        self,
        rows: Sequence[models.Model],
        *,
        field: str,
        source: str,
        fields: Sequence[str],
        via: Sequence[str] = (),
    ) -> None:
        """`apply` for many rows of one model at once: each was read in state `source` and changed in
        memory, its new state in `field` (the same, or a move in the table, through the states `via`
        in that order). Writes `fields` of every row in one statement (`rows_update`), conditional
        on the stored state still being `source`; raises IllegalTransition if a move is not in the
        table or another writer moved any of the rows first (the caller's transaction then rolls
        back, so nothing is written)."""
        if not rows:
            return
        for row in rows:
            target = getattr(row, field)
            if target != source:
                for step_from, step_to in pairwise([source, *via, target]):
                    self.check(step_from, step_to)
        if rows_update(type(rows[0]), rows, fields, **{field: source}) != len(rows):
            raise IllegalTransition(f"{self.name} is no longer {source}.", details={"from": source})
