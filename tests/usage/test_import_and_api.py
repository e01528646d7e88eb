"""File import (bad rows, resumable), the API endpoints, alerts once per crossing, anomalies."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from tests.pdfs import pdf_strings
from vigencia.core import clock
from vigencia.core.errors import DomainError
from vigencia.usage.models import AlertRule, Anomaly, Bucket, UsageRecord
from vigencia.usage.selectors import statement_build
from vigencia.usage.services import alerts_check, anomaly_resolve, bucket_credit_renewal
from vigencia.usage.statements import statement_pdf

from .conftest import T0

HEADER = b"record_id,msisdn,kind,started_at,quantity,destination,charged_minor\n"


def _import(path, *extra):
    """The import's report (a file with rejected rows ends with exit status 3, after the report)."""
    out = StringIO()
    with clock.frozen(T0 + timedelta(days=1)), contextlib.suppress(CommandError):
        call_command("usage", "import", str(path), *extra, stdout=out, verbosity=0)
    return out.getvalue()


def test_import_keeps_good_rows_rejects_bad_ones_and_is_resumable(tmp_path, line, plan, tariff):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    path = tmp_path / "usage.csv"
    path.write_bytes(
        HEADER
        + b"r1,+51912345678,sms,2025-03-01T13:00:00+00:00,1,+51987654321,10\n"
        + b"r2,+51912345678,voice,2025-03-01T13:00:00+00:00,-5,,\n"
        + b"r3,+51999999999,sms,2025-03-01T13:00:00+00:00,1,,\n"
        + b"r4,+51912345678,sms,2030-01-01T00:00:00+00:00,1,,\n"
        + b"r5,+51912345678,sms,2025-03-01T13:00:00+00:00,\xff\xfe,,\n"
        + b"r6,+51912345678,fax,2025-03-01T13:00:00+00:00,1,,\n"
        + b"r7,+51912345678,data,2025-03-01T14:00:00+00:00,2048,,\n"
        + b"r1,+51912345678,sms,2025-03-01T13:00:00+00:00,1,+51987654321,10\n"
    )
    out = _import(path)
    assert "accepted 2, duplicates 1, rejected 5" in out
    assert "line 3: quantity is negative" in out
    assert "line 4: unknown number" in out
    assert "line 5: started_at is in the future" in out
    assert "line 6: not valid UTF-8" in out
    assert "line 7: kind is not voice, sms or data" in out
    assert "rated 2 records" in out
    assert sorted(UsageRecord.objects.values_list("record_id", "rated_quantity", "price_minor")) == [
        ("r1", 1, 0),
        ("r7", 10, 0),
    ]
    assert Bucket.objects.get(kind="sms").remaining == 2
    # Run again (as after an interruption): nothing stored or charged twice.
    again = _import(path)
    assert "accepted 0, duplicates 3, rejected 5" in again
    assert UsageRecord.objects.count() == 2
    assert Bucket.objects.get(kind="sms").remaining == 2


def test_the_command_exits_3_after_its_report_when_rows_were_rejected(tmp_path, line, command_line):
    path = tmp_path / "usage.csv"
    path.write_bytes(
        HEADER
        + b"r1,+51912345678,sms,2025-03-01T13:00:00+00:00,1,,\n"
        + b"r2,+51999999999,sms,2025-03-01T13:00:00+00:00,1,,\n"
    )

    with clock.frozen(T0 + timedelta(days=1)):
        rejected = command_line("usage", "--verbosity", "0", "import", str(path), "--no-rate")
        directory = command_line("usage", "import", str(tmp_path))

    assert rejected == (
        3,
        "accepted 1, duplicates 0, rejected 1\n  line 3: unknown number\n",
        "CommandError: 1 row(s) rejected; the other rows were kept.\n",
    )
    assert directory == (1, "", f"CommandError: not a file: {tmp_path}\n")
    assert list(UsageRecord.objects.values_list("record_id", flat=True)) == ["r1"]


def test_jsonl_import_and_an_overlong_line(tmp_path, line):
    path = tmp_path / "usage.jsonl"
    path.write_bytes(
        b'{"record_id":"j1","msisdn":"+51912345678","kind":"sms","started_at":"2025-03-01T13:00:00Z","quantity":1}\n'
        + b"x" * 10000
        + b"\n[1,2]\n"
    )
    out = _import(path)
    assert "accepted 1, duplicates 0, rejected 2" in out
    assert "line 2: line longer than 4096 bytes" in out
    assert "line 3: not a JSON object" in out


@pytest.fixture
def integrator_api(api, user):
    user.groups.add(Group.objects.get_or_create(name="integrator")[0])
    return api


def test_batch_needs_the_integrator_role(api, line):
    response = api.post_json("/api/v1/usage/batches", {"records": []})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_batch_is_idempotent_by_record_id(integrator_api, line, run_tasks):
    body = {
        "source": "carrier-x",
        "records": [
            {
                "record_id": "a1",
                "msisdn": "+51912345678",
                "kind": "sms",
                "started_at": "2025-03-01T13:00:00Z",
                "quantity": 1,
            },
            {"record_id": "a2", "msisdn": "+51912345678", "kind": "sms", "started_at": "nope", "quantity": 1},
        ],
    }
    first = integrator_api.post_json("/api/v1/usage/batches", body)
    assert first.status_code == 200
    assert first.json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": 1,
        "rejected_rows": [{"line": 2, "reason": "started_at is not an ISO 8601 date and time"}],
    }
    second = integrator_api.post_json("/api/v1/usage/batches", body)
    assert second.json()["duplicates"] == 1
    assert UsageRecord.objects.count() == 1
    assert run_tasks() >= 1
    assert UsageRecord.objects.get().rated_at is not None


IMPLAUSIBLE = [
    ("charged_minor", 10**30, "charged_minor is too large"),
    ("charged_minor", 10**12 + 1, "charged_minor is too large"),
    ("quantity", 0, "an SMS record counts at least 1 message"),
    ("started_at", "1970-01-01T00:00:00Z", "started_at is before 2000"),
]


def test_a_batch_keeps_its_good_records_beside_absurd_ones(integrator_api, line):
    # given good records, records with absurd values, and an element that is no record at all
    good = {"msisdn": "+51912345678", "kind": "sms", "started_at": "2025-03-01T13:00:00Z", "quantity": 1}
    bad = [{**good, "record_id": f"b{n}", field: value} for n, (field, value, _r) in enumerate(IMPLAUSIBLE)]
    records = [{**good, "record_id": "g1", "charged_minor": 10**12}, *bad, "x", {**good, "record_id": "g2"}]

    response = integrator_api.post_json("/api/v1/usage/batches", {"records": records})

    # then each bad one is named with its reason and the good ones are kept
    assert response.status_code == 200
    assert response.json() == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": 5,
        "rejected_rows": [
            *({"line": n, "reason": reason} for n, (_f, _v, reason) in enumerate(IMPLAUSIBLE, start=2)),
            {"line": 6, "reason": "not a JSON object"},
        ],
    }
    assert sorted(UsageRecord.objects.values_list("record_id", flat=True)) == ["g1", "g2"]


def test_a_file_keeps_its_good_rows_beside_absurd_ones(tmp_path, line, plan, tariff):
    path = tmp_path / "usage.csv"
    path.write_bytes(
        HEADER
        + b"g1,+51912345678,sms,2025-03-01T13:00:00+00:00,1,,1000000000000\n"
        + b"b1,+51912345678,sms,2025-03-01T13:00:00+00:00,1,,1000000000000000000000000000000\n"
        + b"b2,+51912345678,sms,2025-03-01T13:00:00+00:00,1,,1000000000001\n"
        + b"b3,+51912345678,sms,2025-03-01T13:00:00+00:00,0,,\n"
        + b"b4,+51912345678,sms,1970-01-01T00:00:00+00:00,1,,\n"
        + b"g2,+51912345678,voice,2025-03-01T13:00:00+00:00,0,,\n"
    )

    out = _import(path)

    assert "accepted 2, duplicates 0, rejected 4" in out
    for number, (_field, _value, reason) in enumerate(IMPLAUSIBLE, start=3):
        assert f"line {number}: {reason}" in out
    assert sorted(UsageRecord.objects.values_list("record_id", flat=True)) == ["g1", "g2"]


def test_batch_over_the_limit_is_rejected_and_writes_nothing(integrator_api, line):
    record = {
        "record_id": "a",
        "msisdn": "+51912345678",
        "kind": "sms",
        "started_at": "2025-03-01T13:00:00Z",
        "quantity": 1,
    }
    response = integrator_api.post_json(
        "/api/v1/usage/batches", {"records": [record] * 10001}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert (response.status_code, response.json()) == (
        422,
        {
            "code": "batch_too_large",
            "message": "Un lote lleva como máximo 10,000 registros; este tiene 10,001. Envíalo por partes.",
            "details": {"max_records": 10000, "records": 10001},
        },
    )
    assert UsageRecord.objects.count() == 0


def test_a_batch_of_exactly_the_limit_is_taken(integrator_api, line):
    records = [
        {
            "record_id": f"r{n}",
            "msisdn": "+51912345678",
            "kind": "sms",
            "started_at": "2025-03-01T11:00:00Z",
            "quantity": 1,
        }
        for n in range(10000)
    ]
    with clock.frozen(T0):
        response = integrator_api.post_json("/api/v1/usage/batches", {"records": records})
    assert (response.status_code, response.json()["accepted"]) == (200, 10000)


@pytest.mark.parametrize(
    ("language", "reasons"),
    [
        ("es", ["msisdn no es un número E.164", "no es un objeto JSON", "número desconocido"]),
        ("zh-hans", ["msisdn 不是 E.164 格式的号码", "不是 JSON 对象", "未知号码"]),
    ],
)
def test_each_rejected_records_reason_is_in_the_callers_language(integrator_api, line, language, reasons):
    # given a batch with a bad number, a record that is no object and an unknown number
    good = {"record_id": "a", "kind": "sms", "started_at": "2025-03-01T11:00:00Z", "quantity": 1}
    records = [{**good, "msisdn": "12"}, 5, {**good, "msisdn": "+51900000000"}]

    # when it is sent by a caller who reads another language
    with clock.frozen(T0):
        response = integrator_api.post_json(
            "/api/v1/usage/batches", {"records": records}, HTTP_ACCEPT_LANGUAGE=language
        )

    # then each reason is in that language, and nothing is stored
    assert [row["reason"] for row in response.json()["rejected_rows"]] == reasons
    assert UsageRecord.objects.count() == 0


def test_balances_and_statement(api, other_api, line, plan, tariff, integrator_api):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        response = api.get(f"/api/v1/lines/{line.pk}/balances")
        assert response.status_code == 200
        assert [(b["kind"], b["remaining"], b["unit"]) for b in response.json()] == [
            ("money", 1000, "minor"),
            ("data", 10240, "KB"),
            ("voice", 300, "s"),
            ("sms", 3, "sms"),
        ]
        assert other_api.get(f"/api/v1/lines/{line.pk}/balances").status_code == 404
    with clock.frozen(T0 + timedelta(days=1)):
        integrator_api.post_json(
            "/api/v1/usage/batches",
            {
                "records": [
                    {
                        "record_id": "s1",
                        "msisdn": line.msisdn,
                        "kind": "voice",
                        "started_at": "2025-03-01T13:00:00Z",
                        "quantity": 400,
                        "destination": "+51987654321",
                    }
                ]
            },
        )
        call_command("usage", "rate", stdout=StringIO())
        url = f"/api/v1/lines/{line.pk}/statement?from=2025-03-01&to=2025-03-02"
        body = api.get(url).json()
        assert body["totals"]["voice"] == {
            "records": 1,
            "quantity": 400,
            "rated_quantity": 400,
            "in_bundle_quantity": 300,
            "price": {"amount_minor": 34, "currency": "PEN"},
        }
        assert body["daily"][0] == {"date": "2025-03-01", "voice": 400, "sms": 0, "data": 0}
        csv_response = api.get(url + "&format=csv")
        assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
        assert (
            csv_response.content.decode()
            .splitlines()[1]
            .startswith("s1,voice,2025-03-01T13:00:00+00:00,400,+51987654321,400,300,34,PEN")
        )
        pdf = api.get(url + "&format=pdf")
        assert pdf.content.startswith(b"%PDF")
        assert (
            api.get(f"/api/v1/lines/{line.pk}/statement?from=2025-03-05&to=2025-03-01").json()["code"]
            == "invalid_period"
        )
        assert api.get(f"/api/v1/lines/{line.pk}/statement?from=garbage").status_code == 422


def test_a_statement_pdf_in_chinese_shows_the_chinese_text(line):
    # given a line's statement, read in Chinese
    statement = statement_build(line=line, date_from=date(2025, 3, 1), date_to=date(2025, 3, 2))

    # when
    with translation.override("zh-hans"):
        pdf = statement_pdf(statement)

    # then the Chinese lines are drawn in the standard Simplified Chinese font, the others in Helvetica
    assert b"/BaseFont /STSong-Light" in pdf
    shown = pdf_strings(pdf)
    title = "+51 912 345 678 的账单，2025年3月1日 至 2025年3月2日"
    assert title.encode("utf-16-be") in shown
    assert "合计扣费：".encode("utf-16-be") in shown
    assert "通话：0 条记录 · 0 分钟 · S/\xa00.00".encode("utf-16-be") in shown
    assert b"?" not in shown


def test_statement_page_draws_an_svg_chart(client, user, line, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client.force_login(user)
    response = client.get(f"/usage/lines/{line.pk}/statement/?from=2025-03-01&to=2025-03-03")
    assert response.status_code == 200
    assert response.content.count(b"<svg") == 3
    assert b"<script>" not in response.content  # no inline script: the chart is drawn server-side


def test_alert_notifies_once_per_crossing_and_rearms(api, line, plan, tariff, monkeypatch):
    sent = []
    monkeypatch.setattr("vigencia.usage.services._notify", lambda **kwargs: sent.append(kwargs["body"]))
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        response = api.put_json(f"/api/v1/lines/{line.pk}/alerts", {"data_below_mb": 5})
        assert response.json() == {
            "data_below_mb": 5,
            "money_below_minor": None,
            "monthly_spend_above_minor": None,
            "expiring_within_days": None,
        }
        assert sent == []
        Bucket.objects.filter(kind="data").update(remaining=4 * 1024)
        assert alerts_check(line_ids=[line.pk]) == 1
        assert alerts_check(line_ids=[line.pk]) == 0
        assert sent == ["Line +51 912 345 678 has 4 MB of data left."]
        Bucket.objects.filter(kind="data").update(remaining=6 * 1024)
        assert alerts_check(line_ids=[line.pk]) == 0
        assert AlertRule.objects.get().data_fired is False
        Bucket.objects.filter(kind="data").update(remaining=1024)
        assert alerts_check(line_ids=[line.pk]) == 1
    assert api.put_json(f"/api/v1/lines/{line.pk}/alerts", {"data_below_mb": -1}).status_code == 422


def test_anomalies_are_flagged_explained_and_resolved(
    api, integrator_api, line, plan, tariff, user, monkeypatch
):
    monkeypatch.setattr("vigencia.usage.services._notify", lambda **kwargs: None)
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    records = [
        {
            "record_id": "x1",
            "msisdn": line.msisdn,
            "kind": "sms",
            "started_at": "2025-03-01T13:00:00Z",
            "quantity": 1,
            "destination": "+51987654321",
        },
        {
            "record_id": "x2",
            "msisdn": line.msisdn,
            "kind": "sms",
            "started_at": "2025-03-01T13:00:00Z",
            "quantity": 1,
            "destination": "+51987654321",
        },
        {
            "record_id": "x3",
            "msisdn": line.msisdn,
            "kind": "sms",
            "started_at": "2025-03-01T14:00:00Z",
            "quantity": 1,
            "destination": "+51987654321",
            "charged_minor": 10,
        },
    ]
    with clock.frozen(T0 + timedelta(days=1)):
        integrator_api.post_json("/api/v1/usage/batches", {"records": records})
        call_command("usage", "rate", stdout=StringIO())
    found = api.get(f"/api/v1/lines/{line.pk}/anomalies").json()
    assert sorted((a["kind"], a["record_id"]) for a in found) == [
        ("charge_mismatch", "x3"),
        ("duplicate", "x2"),
    ]
    explanations = {a["kind"]: a["explanation"] for a in found}
    assert (
        explanations["charge_mismatch"]
        == "Record x3: the carrier charged S/\xa00.10 but the plan's rates give S/\xa00.00."
    )
    anomaly = Anomaly.objects.get(kind="duplicate")
    anomaly_resolve(anomaly=anomaly, actor=user)
    with pytest.raises(DomainError) as error:
        anomaly_resolve(anomaly=anomaly, actor=user)
    assert getattr(error.value, "code", None) == "anomaly_resolved"


def test_statement_page_names_kinds_and_charges_for_people_in_the_readers_language(client, user, line):
    # given a line with no usage in the period
    client.force_login(user)

    # when its holder opens the statement in Chinese
    page = client.get(
        f"/usage/lines/{line.pk}/statement/?from=2025-03-01&to=2025-03-03", HTTP_ACCEPT_LANGUAGE="zh-CN,zh"
    ).content.decode()

    # then kinds are words, charges are money, the number is formatted, the totals table scrolls on
    # phones, and in place of the records it says there are none
    assert "<h1>+51 912 345 678 的账单</h1>" in page
    assert "<tr><td>通话</td><td>0</td><td>0 分钟</td><td>0 分钟</td><td>S/\xa00.00</td></tr>" in page
    assert "<figcaption>流量 (峰值 0 MB)</figcaption>" in page
    assert page.count('<div class="table-scroll" tabindex="0">') == 1
    assert "此期间没有使用记录。" in page


def test_a_flagged_charge_notifies_the_subscriber_and_every_operator_once_each(
    tmp_path, line, plan, tariff, user
):
    # given an operator on duty and a file with the same SMS twice under different ids
    from tests.factories import UserFactory
    from vigencia.notifications.models import Notification

    operator = UserFactory()
    operator.groups.add(Group.objects.get_or_create(name="operator")[0])
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    path = tmp_path / "usage.csv"
    path.write_bytes(
        HEADER
        + b"d1,+51912345678,sms,2025-03-01T13:00:00+00:00,1,+51987654321,\n"
        + b"d2,+51912345678,sms,2025-03-01T13:00:00+00:00,1,+51987654321,\n"
    )
    # when it is imported, and imported again
    _import(path)
    _import(path)
    # then the repeat is flagged once and the subscriber and the operator each get one message about it
    anomaly = Anomaly.objects.get()
    assert anomaly.kind == "duplicate"
    assert UsageRecord.objects.filter(rated_at__isnull=False).count() == 2
    sent = Notification.objects.filter(dedupe_key__startswith="usage-anomaly:").order_by("user_id", "channel")
    assert [(n.user_id, n.channel, n.context["subject"]) for n in sent] == [
        (user.pk, "email", "Possible wrong charge on +51 912 345 678"),
        (operator.pk, "email", "Possible wrong charge on +51 912 345 678"),
    ]


def test_statement_page_shows_usage_in_minutes_and_megabytes_not_raw_seconds_and_bytes(
    client, user, line, plan, tariff, tmp_path
):
    # given a call of 3 min 13 s, one of exactly 2 min and 120 MB of data, imported and rated
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    path = tmp_path / "usage.csv"
    path.write_bytes(
        HEADER
        + b"v1,+51912345678,voice,2025-03-01T13:00:00+00:00,193,+51987654321,\n"
        + b"v2,+51912345678,voice,2025-03-01T14:00:00+00:00,120,+51987654321,\n"
        + b"d1,+51912345678,data,2025-03-01T15:00:00+00:00,125829120,,\n"
    )
    _import(path)
    client.force_login(user)

    # when its holder opens the statement in Spanish
    page = client.get(
        f"/usage/lines/{line.pk}/statement/?from=2025-03-01&to=2025-03-02", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()

    # then quantities read in minutes and seconds and in MB, in the totals, the chart and the records
    assert "<tr><td>Voz</td><td>2</td><td>5 min 13 s</td><td>5 min</td>" in page
    assert "<tr><td>Datos</td><td>1</td><td>120 MB</td><td>10 MB</td>" in page
    assert "<figcaption>Datos (máximo 120 MB)</figcaption>" in page
    assert "<td>Voz</td><td>3 min 13 s</td>" in page
    # and each record's time reads on one line, in the holder's timezone (Lima), the day short
    assert '<time datetime="2025-03-01T08:00:00-05:00">1 mar. 08:00</time></td><td>Voz</td>' in page
    assert "<td>Voz</td><td>2 min</td>" in page
    assert "<td>Datos</td><td>120 MB</td>" in page


def test_statement_page_says_when_a_period_has_no_usage_and_when_it_lists_only_the_first_records(
    client, user, line, plan, tariff, tmp_path, monkeypatch
):
    # given three calls on 1 March, and a page that lists two records
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    path = tmp_path / "usage.csv"
    path.write_bytes(
        HEADER
        + b"".join(
            b"v%d,+51912345678,voice,2025-03-01T1%d:00:00+00:00,60,+51987654321,\n" % (n, n) for n in range(3)
        )
    )
    _import(path)
    monkeypatch.setattr("vigencia.usage.views.RECORDS_SHOWN", 2)
    client.force_login(user)
    statement = f"/usage/lines/{line.pk}/statement/"

    # when its holder opens that day, then a day without usage
    busy = client.get(
        f"{statement}?from=2025-03-01&to=2025-03-01", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    quiet = client.get(
        f"{statement}?from=2025-03-05&to=2025-03-05", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()

    # then the first says it lists two of the three, and the second says there was none
    assert "Los primeros 2 de 3 registros; el CSV los tiene todos." in busy
    assert busy.count("<td>Voz</td><td>1 min</td>") == 2
    assert "No hubo consumo en este periodo." in quiet
    assert "usage-records" not in quiet
