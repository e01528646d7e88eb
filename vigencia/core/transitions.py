"""Explicit transition tables for state fields, applied with a conditional update.

Every state field (order, payment, line, voucher, ticket) declares its table once; a service moves a
row only through `apply`, which updates `WHERE pk = .. AND state = <expected>` so that two racing
writers cannot both make the same move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

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
