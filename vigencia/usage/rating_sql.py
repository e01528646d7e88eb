"""Set-based rating on PostgreSQL: a whole batch rated and charged in a few statements.

Bucket draw-down is an interval overlap: on one line, the records of one kind in (started_at, id)
order use units [c_end - units, c_end) of a queue; the buckets of that kind in (expires_at, id) order
hold units [b_end - remaining, b_end) of the same queue; a record takes from a bucket what the two
intervals share, and from the bundle as a whole what its interval shares with [0, held). The
out-of-bundle prices then draw down the money buckets the same way. So one sort of the batch by
(line, started_at, id) rates every record: running sums per kind, then of the prices. This equals
the record by record rating of `rating.rate_one` when every bucket of the line is valid either for
all or for none of the line's records in the batch; the lines where that does not hold (a credit
arriving or a bucket expiring between two of its records), and lines whose tariff allows overage,
are left to be rated record by record.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
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
_COLUMNS = (
    "id, source, record_id, line_id, kind, started_at, quantity, destination, destination_class, "
    "carrier_charged_minor, content_hash"
)
_STORED = f"""
CREATE TEMP TABLE usage_rate_batch AS
SELECT {_COLUMNS}, (started_at AT TIME ZONE %(tz)s)::date AS day
FROM usage_usagerecord WHERE id = ANY(%(ids)s)
"""  # noqa: S608 - constants

# Each line of the batch with the tariff of its latest credit (or the carrier's currency and the
# default rates) and the span of its records.
_LINES = """
CREATE TEMP TABLE usage_rate_lines AS
WITH spans AS (
    SELECT line_id, min(started_at) AS first_at, max(started_at) AS last_at FROM {batch} GROUP BY line_id
), plan_of AS (
    SELECT DISTINCT ON (c.line_id) c.line_id, c.plan_id
    FROM usage_credit c WHERE c.line_id IN (SELECT line_id FROM spans)
    ORDER BY c.line_id, c.credited_at DESC, c.id DESC
)
SELECT s.line_id, s.first_at, s.last_at, l.status, l.valid_until,
    COALESCE(p.currency, carrier.currency) AS currency,
    COALESCE(t.voice_rounding, %(voice_rounding)s) AS voice_rounding,
    COALESCE(t.data_step_kb, %(data_step_kb)s) AS data_step_kb,
    COALESCE(t.voice_national_per_minute_minor, %(voice_national_per_minute_minor)s) AS voice_national,
    COALESCE(
        t.voice_international_per_minute_minor, %(voice_international_per_minute_minor)s
    ) AS voice_international,
    COALESCE(t.sms_national_minor, %(sms_national_minor)s) AS sms_national,
    COALESCE(t.sms_international_minor, %(sms_international_minor)s) AS sms_international,
    COALESCE(t.data_per_mb_minor, %(data_per_mb_minor)s) AS data_per_mb,
    COALESCE(t.allows_overage, %(allows_overage)s) AS allows_overage
FROM spans s
JOIN lines_line l ON l.id = s.line_id
JOIN catalog_carrier carrier ON carrier.id = l.carrier_id
LEFT JOIN plan_of ON plan_of.line_id = s.line_id
LEFT JOIN catalog_plan p ON p.id = plan_of.plan_id
LEFT JOIN usage_tariff t ON t.plan_id = plan_of.plan_id
"""

# The lines' buckets with something left, locked in primary-key order; each one's end in its
# kind's queue (the buckets valid for the whole span only) and whether it is valid for all, or for
# none, of the line's records in the batch.
_BUCKETS = """
CREATE TEMP TABLE usage_rate_buckets AS
SELECT *, (sum(remaining) FILTER (WHERE for_all) OVER (
        PARTITION BY line_id, kind ORDER BY expires_at, id ROWS UNBOUNDED PRECEDING
    ))::bigint AS b_end
FROM (
    SELECT b.id, b.line_id, b.kind, b.remaining, b.expires_at,
        b.valid_from <= l.first_at AND l.last_at < b.expires_at AS for_all,
        b.valid_from > l.last_at OR b.expires_at <= l.first_at AS for_none
    FROM (
        SELECT id, line_id, kind, remaining, valid_from, expires_at FROM usage_bucket
        WHERE line_id IN (SELECT line_id FROM usage_rate_lines) AND remaining > 0
        ORDER BY id FOR UPDATE
    ) b
    JOIN usage_rate_lines l ON l.line_id = b.line_id
) b
"""

# Each line of the batch with what its buckets valid for all its records hold of each kind, and
# whether every bucket is valid for all or for none of them (the queue model describes the line).
_HELD = """
CREATE TEMP TABLE usage_rate_held AS
SELECT l.*, COALESCE(h.exact, true) AS exact, COALESCE(h.voice, 0) AS voice, COALESCE(h.sms, 0) AS sms,
    COALESCE(h.data, 0) AS data, COALESCE(h.money, 0) AS money
FROM usage_rate_lines l
LEFT JOIN (
    SELECT line_id, bool_and(for_all OR for_none) AS exact,
        (sum(remaining) FILTER (WHERE for_all AND kind = 'voice'))::bigint AS voice,
        (sum(remaining) FILTER (WHERE for_all AND kind = 'sms'))::bigint AS sms,
        (sum(remaining) FILTER (WHERE for_all AND kind = 'data'))::bigint AS data,
        (sum(remaining) FILTER (WHERE for_all AND kind = 'money'))::bigint AS money
    FROM usage_rate_buckets GROUP BY line_id
) h ON h.line_id = l.line_id
"""

# Every record of the batch, rated where the queue model describes its line: rated units, from the
# bundle, price, from the balance; what anomaly detection looks at (use on an inactive line, an
# instant the record shares with another of the batch on its line), and the columns of the batch
# an import stores with them (`_CARRIED`). Running sums over one window (line, started_at, id): the
# bundle use of each kind, then of the prices (as bigint: a sum of bigint is a numeric, whose
# arithmetic costs several times more). The rows come in that window's order: an import's new
# records have their ids in it (`import_sql._NEW`), so they are stored, and their charges, in id order.
_RATE = """
CREATE TEMP TABLE usage_rate_result AS
WITH units AS (
    SELECT r.id, r.record_id, r.line_id, r.kind, r.started_at, r.day, r.carrier_charged_minor, l.status,
        l.valid_until{carry_in}, l.currency, NOT l.allows_overage AND l.exact AS rated,
        CASE
            WHEN r.kind = 'voice' AND l.voice_rounding = 'per_minute' THEN (r.quantity + 59) / 60 * 60
            WHEN r.kind = 'data'
                THEN ((r.quantity + 1023) / 1024 + l.data_step_kb - 1) / l.data_step_kb * l.data_step_kb
            ELSE r.quantity
        END AS units,
        CASE
            WHEN r.kind = 'voice' AND r.destination_class = 'international' THEN l.voice_international
            WHEN r.kind = 'voice' THEN l.voice_national
            WHEN r.kind = 'sms' AND r.destination_class = 'international' THEN l.sms_international
            WHEN r.kind = 'sms' THEN l.sms_national
            ELSE l.data_per_mb
        END AS rate,
        CASE r.kind WHEN 'voice' THEN 60 WHEN 'sms' THEN 1 ELSE 1024 END AS rate_unit,
        CASE r.kind WHEN 'voice' THEN l.voice WHEN 'sms' THEN l.sms ELSE l.data END AS held,
        l.money AS money_held
    FROM {batch} r
    JOIN usage_rate_held l ON l.line_id = r.line_id
), queued AS (
    SELECT *, (CASE kind
            WHEN 'voice' THEN sum(units) FILTER (WHERE kind = 'voice') OVER w
            WHEN 'sms' THEN sum(units) FILTER (WHERE kind = 'sms') OVER w
            ELSE sum(units) FILTER (WHERE kind = 'data') OVER w
        END)::bigint AS c_end,
        started_at IN (lag(started_at) OVER w, lead(started_at) OVER w) AS shares_instant
    FROM units
    WINDOW w AS (PARTITION BY line_id ORDER BY started_at, id ROWS UNBOUNDED PRECEDING)
), priced AS (
    SELECT *, ((units - in_bundle) * rate + rate_unit - 1) / rate_unit AS price
    FROM (SELECT *, LEAST(c_end, held) - LEAST(c_end - units, held) AS in_bundle FROM queued) q
), paid AS (
    SELECT *, (sum(price) OVER w)::bigint AS m_end
    FROM priced
    WINDOW w AS (PARTITION BY line_id ORDER BY started_at, id ROWS UNBOUNDED PRECEDING)
), charged AS (
    SELECT *, LEAST(m_end, money_held) - LEAST(m_end - price, money_held) AS money FROM paid
)
SELECT r.id, r.record_id, r.line_id, r.kind, r.day, r.carrier_charged_minor, r.status, r.currency, r.rated,
    r.units, r.c_end, r.in_bundle, r.price, r.m_end, r.money,
    (r.units > 0 OR r.carrier_charged_minor > 0)
        AND (r.status <> 'active' OR r.valid_until IS NOT NULL AND r.valid_until < r.day) AS inactive,
    b.id AS whole_bucket, r.shares_instant, r.started_at{carry_out}
FROM charged r
-- The bucket the record took the whole of its charge from, when one bucket holds all of it: its
-- in-bundle units ([c_end - units, + in_bundle) of the kind's queue) and nothing from the balance,
-- or its money ([m_end - price, + money) of the money queue) and nothing from the bundle. Buckets
-- hold disjoint spans of their queue, so at most one matches. The record names it
-- (`charged_bucket`) and gets no Charge row.
LEFT JOIN usage_rate_buckets b ON b.line_id = r.line_id
    AND b.kind = CASE WHEN r.in_bundle > 0 THEN r.kind ELSE 'money' END AND b.for_all AND r.rated
    AND CASE WHEN r.in_bundle > 0
        THEN r.money = 0 AND b.b_end - b.remaining <= r.c_end - r.units
            AND r.c_end - r.units + r.in_bundle <= b.b_end
        ELSE r.money > 0 AND b.b_end - b.remaining <= r.m_end - r.price
            AND r.m_end - r.price + r.money <= b.b_end
    END
"""

# What the records that took from several buckets took from each (Charge rows), and each bucket
# drawn down by what the batch took from it: the part of its span of the queue ([b_end - remaining,
# b_end)) that the line's records used ([0, what they took of the kind)), in one statement.
_CHARGE = """
WITH pieces AS (
    INSERT INTO usage_charge (record_id, bucket_id, amount)
    SELECT r.id, b.id, LEAST(r.c_end, b.b_end) - GREATEST(r.c_end - r.units, b.b_end - b.remaining)
    FROM usage_rate_result r
    JOIN usage_rate_buckets b ON b.line_id = r.line_id AND b.kind = r.kind AND b.for_all
    WHERE r.rated AND r.whole_bucket IS NULL AND r.in_bundle > 0
        AND r.c_end - r.units < b.b_end AND b.b_end - b.remaining < r.c_end
    UNION ALL
    SELECT r.id, b.id, LEAST(r.m_end, b.b_end) - GREATEST(r.m_end - r.price, b.b_end - b.remaining)
    FROM usage_rate_result r
    JOIN usage_rate_buckets b ON b.line_id = r.line_id AND b.kind = 'money' AND b.for_all
    WHERE r.rated AND r.whole_bucket IS NULL AND r.money > 0
        AND r.m_end - r.price < b.b_end AND b.b_end - b.remaining < r.m_end
), used AS (
    SELECT line_id, sum(in_bundle) FILTER (WHERE kind = 'voice')::bigint AS voice,
        sum(in_bundle) FILTER (WHERE kind = 'sms')::bigint AS sms,
        sum(in_bundle) FILTER (WHERE kind = 'data')::bigint AS data, sum(money)::bigint AS money
    FROM usage_rate_result WHERE rated GROUP BY line_id
), queue AS (
    SELECT b.id, b.b_end - b.remaining AS b_start, b.b_end,
        CASE b.kind WHEN 'voice' THEN u.voice WHEN 'sms' THEN u.sms WHEN 'data' THEN u.data ELSE u.money END
            AS used
    FROM usage_rate_buckets b JOIN used u ON u.line_id = b.line_id
    WHERE b.for_all
)
UPDATE usage_bucket b SET remaining = b.remaining - (LEAST(q.b_end, q.used) - q.b_start)
FROM queue q
WHERE b.id = q.id AND q.used > q.b_start
"""

# Stored records get their results; the new records of an import are stored with them (unrated
# where the record-by-record rater takes them), in the result's order: id order (see _RATE).
_STORE_STORED = """
UPDATE usage_usagerecord u SET rated_at = %(now)s, rated_quantity = r.units, in_bundle_quantity = r.in_bundle,
    price_minor = r.price, money_charged_minor = r.money, uncovered_minor = r.price - r.money,
    currency = r.currency, charged_bucket_id = r.whole_bucket
FROM usage_rate_result r
WHERE u.id = r.id AND r.rated
"""
# The columns of an import's new records the result carries to the insert.
_CARRIED = ("quantity", "destination", "destination_class", "content_hash")
_STORE_NEW = """
INSERT INTO usage_usagerecord (id, source, record_id, line_id, kind, started_at, quantity, destination,
    destination_class, carrier_charged_minor, content_hash, received_at, rated_at, rated_quantity,
    in_bundle_quantity, price_minor, money_charged_minor, uncovered_minor, currency, charged_bucket_id)
SELECT r.id, %(source)s, r.record_id, r.line_id, r.kind, r.started_at, r.quantity, r.destination,
    r.destination_class, r.carrier_charged_minor, r.content_hash, %(now)s,
    CASE WHEN r.rated THEN %(now)s::timestamptz END, CASE WHEN r.rated THEN r.units ELSE 0 END,
    CASE WHEN r.rated THEN r.in_bundle ELSE 0 END, CASE WHEN r.rated THEN r.price ELSE 0 END,
    CASE WHEN r.rated THEN r.money ELSE 0 END, CASE WHEN r.rated THEN r.price - r.money ELSE 0 END,
    CASE WHEN r.rated THEN r.currency ELSE '' END, r.whole_bucket
FROM usage_rate_result r
"""


def _rate(
    *, batch: str, store: str, now: datetime, source: str | None = None, carry: tuple[str, ...] = ()
) -> list[int]:
    """Rate the batch table, store the results and the charges, draw the buckets down; returns the
    ids it left to the record-by-record rater."""
    default_tariff = Tariff()  # the rates of a plan the operator gave no tariff
    defaults = {name: getattr(default_tariff, name) for name in _TARIFF_COLUMNS}
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS usage_rate_lines, usage_rate_buckets, usage_rate_held, usage_rate_result"
        )
        cursor.execute(_LINES.format(batch=batch), defaults)
        # Its count and distinct lines: the bucket lock below reads the bucket table through once.
        cursor.execute("ANALYZE usage_rate_lines (line_id)")
        cursor.execute(_BUCKETS)
        cursor.execute(_HELD)
        cursor.execute(
            _RATE.format(
                batch=batch,
                carry_in="".join(f", r.{name}" for name in carry),
                carry_out="".join(f", r.{name}" for name in carry),
            )
        )
        cursor.execute(store, {"now": now, "source": source})
        cursor.execute(_CHARGE)
        cursor.execute("SELECT id FROM usage_rate_result WHERE NOT rated ORDER BY id")
        return [pk for (pk,) in cursor.fetchall()]


def rate_batch(*, record_ids: list[int], now: datetime) -> list[int]:
    """Rate and charge stored records in a few statements; lock the batch's buckets (id order)
    first. Returns the ids it left to the record-by-record rater. Call inside a transaction."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS usage_rate_batch")
        cursor.execute(_STORED, {"ids": record_ids, "tz": settings.VIGENCIA_DISPLAY_TIMEZONE})
    left = _rate(batch="usage_rate_batch", store=_STORE_STORED, now=now)
    rate_done()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE usage_rate_batch")
    return left


def rate_new(*, source: str, now: datetime) -> list[int]:
    """Store the new records of an import (temp table usage_import_new, ids assigned), rated and
    charged where the set-based model applies, unrated otherwise. Returns the ids left unrated;
    the results stay in usage_rate_result until `rate_done`. Call inside a transaction."""
    return _rate(batch="usage_import_new", store=_STORE_NEW, now=now, source=source, carry=_CARRIED)


def rate_done() -> list[int]:
    """Drop the rating's tables; returns the batch's line ids."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT line_id FROM usage_rate_lines ORDER BY line_id")
        line_ids = [pk for (pk,) in cursor.fetchall()]
        cursor.execute("DROP TABLE usage_rate_lines, usage_rate_buckets, usage_rate_held, usage_rate_result")
    return line_ids
