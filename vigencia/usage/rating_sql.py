"""Set-based rating on PostgreSQL: a whole batch rated and charged in a few statements.

Bucket draw-down is an interval overlap: on one line, the records of one kind in (started_at, id)
order use units [c_start, c_end) of a queue; the buckets of that kind in (expires_at, id) order hold
units [b_start, b_end) of the same queue; a record takes from a bucket what the two intervals share.
The out-of-bundle prices then draw down the money buckets the same way. This equals the record by
record rating of `rating.rate_one` when every bucket of the line is valid either for all or for none
of the line's records in the batch; the lines where that does not hold (a credit arriving or a bucket
expiring between two of its records), and lines whose tariff allows overage, are returned to be rated
record by record.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from vigencia.usage.models import Tariff

_TARIFF_COLUMNS = (
    "voice_rounding",
    "data_step_kb",
    "voice_national_per_minute_minor",
    "voice_international_per_minute_minor",
    "sms_national_minor",
    "sms_international_minor",
    "data_per_mb_minor",
    "allows_overage",
)

# The batch: stored records by id, or the new records of an import (`import_sql`), not stored yet.
_COLUMNS = "id, line_id, kind, started_at, quantity, destination_class"
_STORED = f"SELECT {_COLUMNS} FROM usage_usagerecord WHERE id = ANY(%(ids)s)"  # noqa: S608 - constants
_NEW = f"SELECT {_COLUMNS} FROM usage_import_new"  # noqa: S608 - constants

_PREPARE = """
DROP TABLE IF EXISTS usage_rate_batch, usage_rate_buckets, usage_rate_charges;
CREATE TEMP TABLE usage_rate_batch AS
WITH batch AS ({batch}), plan_of AS (
    SELECT DISTINCT ON (c.line_id) c.line_id, c.plan_id
    FROM usage_credit c WHERE c.line_id IN (SELECT line_id FROM batch)
    ORDER BY c.line_id, c.credited_at DESC, c.id DESC
), tariffed AS (
    SELECT b.*, COALESCE(p.currency, carrier.currency) AS currency,
        COALESCE(t.voice_rounding, %(voice_rounding)s) AS voice_rounding,
        COALESCE(t.data_step_kb, %(data_step_kb)s) AS data_step_kb,
        COALESCE(t.allows_overage, %(allows_overage)s) AS allows_overage,
        CASE
            WHEN b.kind = 'voice' AND b.destination_class = 'international'
                THEN COALESCE(
                    t.voice_international_per_minute_minor, %(voice_international_per_minute_minor)s
                )
            WHEN b.kind = 'voice'
                THEN COALESCE(t.voice_national_per_minute_minor, %(voice_national_per_minute_minor)s)
            WHEN b.kind = 'sms' AND b.destination_class = 'international'
                THEN COALESCE(t.sms_international_minor, %(sms_international_minor)s)
            WHEN b.kind = 'sms' THEN COALESCE(t.sms_national_minor, %(sms_national_minor)s)
            ELSE COALESCE(t.data_per_mb_minor, %(data_per_mb_minor)s)
        END AS rate,
        CASE b.kind WHEN 'voice' THEN 60 WHEN 'sms' THEN 1 ELSE 1024 END AS rate_unit
    FROM batch b
    JOIN lines_line l ON l.id = b.line_id
    JOIN catalog_carrier carrier ON carrier.id = l.carrier_id
    LEFT JOIN plan_of ON plan_of.line_id = b.line_id
    LEFT JOIN catalog_plan p ON p.id = plan_of.plan_id
    LEFT JOIN usage_tariff t ON t.plan_id = plan_of.plan_id
)
SELECT *,
    CASE
        WHEN kind = 'voice' AND voice_rounding = 'per_minute' THEN (quantity + 59) / 60 * 60
        WHEN kind = 'data' THEN ((quantity + 1023) / 1024 + data_step_kb - 1) / data_step_kb * data_step_kb
        ELSE quantity
    END AS units,
    min(started_at) OVER (PARTITION BY line_id) AS line_first,
    max(started_at) OVER (PARTITION BY line_id) AS line_last,
    bool_or(allows_overage) OVER (PARTITION BY line_id) AS line_overage
FROM tariffed;

CREATE TEMP TABLE usage_rate_buckets AS
WITH spans AS (
    SELECT DISTINCT line_id, line_first, line_last, line_overage FROM usage_rate_batch
), locked AS (
    SELECT b.id, b.line_id, b.kind, b.remaining, b.valid_from, b.expires_at
    FROM usage_bucket b WHERE b.line_id IN (SELECT line_id FROM spans) AND b.remaining > 0
    ORDER BY b.id FOR UPDATE
)
SELECT b.*, s.line_first, s.line_last, s.line_overage,
    b.valid_from <= s.line_first AND s.line_last < b.expires_at AS for_all,
    b.valid_from > s.line_last OR b.expires_at <= s.line_first AS for_none
FROM locked b JOIN spans s ON s.line_id = b.line_id;

-- Lines the queue model does not describe exactly are left to the record-by-record rater.
DELETE FROM usage_rate_batch WHERE line_overage OR line_id IN (
    SELECT line_id FROM usage_rate_buckets WHERE NOT (for_all OR for_none)
);
DELETE FROM usage_rate_buckets WHERE NOT for_all OR line_id NOT IN (SELECT line_id FROM usage_rate_batch);
"""

_RATE = """
CREATE TEMP TABLE usage_rate_charges (record_id bigint, bucket_id bigint, amount bigint, money boolean);

WITH queue AS (
    SELECT id, line_id, kind, units,
        sum(units) OVER (PARTITION BY line_id, kind ORDER BY started_at, id) AS c_end
    FROM usage_rate_batch
), held AS (
    SELECT id, line_id, kind, remaining,
        sum(remaining) OVER (PARTITION BY line_id, kind ORDER BY expires_at, id) AS b_end
    FROM usage_rate_buckets WHERE kind <> 'money'
)
INSERT INTO usage_rate_charges
SELECT q.id, h.id, LEAST(q.c_end, h.b_end) - GREATEST(q.c_end - q.units, h.b_end - h.remaining), false
FROM queue q JOIN held h ON h.line_id = q.line_id AND h.kind = q.kind
WHERE q.c_end - q.units < h.b_end AND h.b_end - h.remaining < q.c_end;

UPDATE usage_rate_batch r SET in_bundle = t.total
FROM (SELECT record_id, sum(amount) AS total FROM usage_rate_charges GROUP BY record_id) t
WHERE t.record_id = r.id;

UPDATE usage_rate_batch SET price = ((units - in_bundle) * rate + rate_unit - 1) / rate_unit;

WITH queue AS (
    SELECT id, line_id, price, sum(price) OVER (PARTITION BY line_id ORDER BY started_at, id) AS c_end
    FROM usage_rate_batch
), held AS (
    SELECT id, line_id, remaining,
        sum(remaining) OVER (PARTITION BY line_id ORDER BY expires_at, id) AS b_end
    FROM usage_rate_buckets WHERE kind = 'money'
)
INSERT INTO usage_rate_charges
SELECT q.id, h.id, LEAST(q.c_end, h.b_end) - GREATEST(q.c_end - q.price, h.b_end - h.remaining), true
FROM queue q JOIN held h ON h.line_id = q.line_id
WHERE q.c_end - q.price < h.b_end AND h.b_end - h.remaining < q.c_end;

UPDATE usage_rate_batch r SET money = t.total
FROM (SELECT record_id, sum(amount) AS total FROM usage_rate_charges WHERE money GROUP BY record_id) t
WHERE t.record_id = r.id;

"""

# Stored records get their results; the new records of an import are stored with them (or unrated,
# for the record-by-record rater, where the batch table has no row for them).
_STORE_STORED = """
UPDATE usage_usagerecord u SET rated_at = %(now)s, rated_quantity = r.units, in_bundle_quantity = r.in_bundle,
    price_minor = r.price, money_charged_minor = r.money, uncovered_minor = r.price - r.money,
    currency = r.currency
FROM usage_rate_batch r WHERE u.id = r.id
"""
_STORE_NEW = """
INSERT INTO usage_usagerecord (id, source, record_id, line_id, kind, started_at, quantity, destination,
    destination_class, carrier_charged_minor, content_hash, received_at, rated_at, rated_quantity,
    in_bundle_quantity, price_minor, money_charged_minor, uncovered_minor, currency)
SELECT n.id, n.source, n.record_id, n.line_id, n.kind, n.started_at, n.quantity, n.destination,
    n.destination_class, n.carrier_charged_minor, n.content_hash, %(now)s,
    CASE WHEN r.id IS NOT NULL THEN %(now)s::timestamptz END, COALESCE(r.units, 0), COALESCE(r.in_bundle, 0),
    COALESCE(r.price, 0), COALESCE(r.money, 0), COALESCE(r.price - r.money, 0), COALESCE(r.currency, '')
FROM usage_import_new n LEFT JOIN usage_rate_batch r ON r.id = n.id
ORDER BY n.id
"""

_CHARGE = """
INSERT INTO usage_charge (record_id, bucket_id, amount)
SELECT record_id, bucket_id, amount FROM usage_rate_charges WHERE amount > 0 ORDER BY record_id, bucket_id;

UPDATE usage_bucket b SET remaining = b.remaining - c.total
FROM (SELECT bucket_id, sum(amount) AS total FROM usage_rate_charges GROUP BY bucket_id) c
WHERE b.id = c.bucket_id;
"""


def _rate(*, stored: list[int] | None, now: datetime) -> set[int]:
    """Rate the batch (stored records by id, or else the import's new records), store the results
    and the charges, draw the buckets down; returns the ids rated here."""
    default_tariff = Tariff()  # the rates of a plan the operator gave no tariff
    defaults = {name: getattr(default_tariff, name) for name in _TARIFF_COLUMNS}
    with connection.cursor() as cursor:
        cursor.execute(
            _PREPARE.format(batch=_NEW if stored is None else _STORED), {"ids": stored, **defaults}
        )
        cursor.execute(
            "ALTER TABLE usage_rate_batch ADD COLUMN in_bundle bigint NOT NULL DEFAULT 0, "
            "ADD COLUMN price bigint NOT NULL DEFAULT 0, ADD COLUMN money bigint NOT NULL DEFAULT 0"
        )
        cursor.execute(_RATE)
        cursor.execute(_STORE_NEW if stored is None else _STORE_STORED, {"now": now})
        cursor.execute(_CHARGE)
        cursor.execute("SELECT id FROM usage_rate_batch")
        rated = {row[0] for row in cursor.fetchall()}
        cursor.execute("DROP TABLE usage_rate_batch, usage_rate_buckets, usage_rate_charges")
    return rated


def rate_batch(*, record_ids: list[int], now: datetime) -> list[int]:
    """Rate and charge stored records in a few statements; lock the batch's buckets (id order)
    first. Returns the ids it left to the record-by-record rater. Call inside a transaction."""
    rated = _rate(stored=record_ids, now=now)
    return [pk for pk in record_ids if pk not in rated]


def rate_new(*, now: datetime) -> set[int]:
    """Store the new records of an import (temp table usage_import_new, ids assigned), rated and
    charged where the set-based model applies, unrated otherwise. Returns the ids rated here."""
    return _rate(stored=None, now=now)
