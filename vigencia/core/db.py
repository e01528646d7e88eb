"""A database write the ORM has no public call for."""

from __future__ import annotations

from django.db import models, router
from django.db.models.constants import OnConflict


def insert_unless_taken(instance: models.Model) -> bool:
    """INSERT `instance` unless one of its unique values is taken: True (its primary key set) if the
    row was inserted, False if not; on PostgreSQL a concurrent insert of the same value is waited
    for and counts as taken once it commits.

    `INSERT ... ON CONFLICT DO NOTHING RETURNING id` (SQLite: `INSERT OR IGNORE`, which also skips a
    row that breaks a NOT NULL or CHECK constraint, so a caller that looks the taken row up must
    handle finding none). Unlike catching IntegrityError it needs no savepoint: the caller's
    transaction goes on either way. No pre_save/post_save signals are sent."""
    model = type(instance)
    meta = model._meta
    assert meta.auto_field is not None, "for a model with an auto primary key"
    assert instance.pk is None, "for a new row"
    using = router.db_for_write(model, instance=instance)
    fields = [
        field for field in meta.local_concrete_fields if field is not meta.auto_field and not field.generated
    ]
    rows = model._base_manager._insert(  # type: ignore[attr-defined]
        [instance], fields=fields, returning_fields=[meta.pk], using=using, on_conflict=OnConflict.IGNORE
    )
    if not rows or rows[0] is None:
        return False
    setattr(instance, meta.pk.attname, rows[0][0])
    instance._state.adding = False
    instance._state.db = using
    return True
