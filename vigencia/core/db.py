"""Database writes the ORM has no public (or no fast) call for."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from django.db import InterfaceError, OperationalError, connections, models, router
from django.db.models.constants import OnConflict
from django.db.models.lookups import In

T = TypeVar("T")


class IntegerIn(In):
    """`in` on an integer column, leaving out the values the column cannot hold (no row has them), as
    Django's own `exact` and comparisons on integers do since 5.0, instead of the database's overflow
    error: an id of 10²³ posted to a form's multiple choice (the back office's carriers of a store)
    is "not one of the available choices", not a server error. Registered on IntegerField (and so
    on every integer primary key) by CoreConfig.ready."""

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)


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


def rows_update(
    model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str], **where: Any
) -> int:
    """Write `fields` of each of `rows` (instances of `model`, distinct) to its row, only where the
    row still matches `where` (equality on columns, e.g. `status="fulfilling"`); returns how many
    rows were written. What `model.objects.filter(**where).bulk_update(rows, fields)` does, without
    its cost: bulk_update writes a CASE WHEN per field with one branch per row, which Django takes
    long to compose and PostgreSQL evaluates branch by branch for every row. On PostgreSQL this is
    one `UPDATE ... FROM unnest(<one array per column>)` joined on the primary key per 5,000 rows;
    elsewhere it is bulk_update."""
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return model._default_manager.using(using).filter(**where).bulk_update(rows, fields, batch_size=500)
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns = [pk, *(cast(models.Field, meta.get_field(name)) for name in fields)]
    filters = [(cast(models.Field, meta.get_field(name)), value) for name, value in where.items()]
    quote = connection.ops.quote_name
    table, key = quote(meta.db_table), quote(pk.column)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
    names = ", ".join(quote(field.column) for field in columns)
    conditions = "".join(f" AND {table}.{quote(field.column)} = %s" for field, _value in filters)
    join = f"{table}.{key} = v.{key}{conditions}"
    sql = f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({names}) WHERE {join}"  # noqa: S608 - quoted names
    updated = 0
    with connection.cursor() as cursor:
        for first in range(0, len(rows), 5_000):
            chunk = rows[first : first + 5_000]
            values = [
                [field.get_db_prep_save(getattr(row, field.attname), connection) for row in chunk]
                for field in columns
            ]
            params = [*values, *(field.get_db_prep_value(value, connection) for field, value in filters)]
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated


class DatabaseUnavailable(Exception):
    """The database stayed unreachable (or locked) through every attempt."""


def outlast_database_outages(
    step: Callable[[], T],
    *,
    report: Callable[[str], None],
    attempts: int | None = None,
    first_wait: float = 1.0,
    max_wait: float = 30.0,
) -> T:
    """Call `step` until it returns, through the database being away for a while: a SQLite file
    another process keeps locked past the timeout, PostgreSQL restarted or not reachable. Each time
    it says so through `report`, closes every connection (a broken one is not reused) and waits,
    twice as long each time up to `max_wait`, before calling `step` again from the start — so `step`
    must be safe to start over (a worker's loop, a scheduler's tick). With `attempts`, it gives up
    after that many with DatabaseUnavailable. Other database errors (integrity, programming) are
    bugs and pass through."""
    wait, attempt = first_wait, 0
    while True:
        started = time.monotonic()
        try:
            return step()
        except (OperationalError, InterfaceError) as error:
            attempt += 1
            if time.monotonic() - started > max_wait:
                wait, attempt = first_wait, 1  # it ran well for a while: a new outage
            if attempts is not None and attempt >= attempts:
                raise DatabaseUnavailable(f"the database is unavailable: {error}") from error
            report(f"The database is unavailable ({error}); trying again in {wait:g} s.")
            connections.close_all()
            time.sleep(wait)
            wait = min(wait * 2, max_wait)
