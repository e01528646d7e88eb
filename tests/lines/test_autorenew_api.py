"""PUT/GET /api/v1/lines/{id}/reminders and /auto-renew, and the issue's "Done when" scenario."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from tests.lines.keepalive_helpers import fund, lima
from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.lines.keepalive import keepalive_tick
from vigencia.lines.models import AutoRenewRun, Line, ReminderSent, ReminderSetting
from vigencia.notifications.models import Notification
from vigencia.notifications.services import webhook_endpoint_set
from vigencia.orders.models import RenewalOrder

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)


@pytest.fixture
def line(user, claro) -> Line:
    return Line.objects.create(owner=user, msisdn="+51912345678", carrier=claro, last_recharge_at=TODAY)


def test_reminders_default_then_put_and_get(api, line, user):
    url = f"/api/v1/lines/{line.pk}/reminders"
    webhook_endpoint_set(user=user, url="https://example.com/hooks/vigencia")
    assert api.get(url).json() == {
        "lead_days": [30, 7, 1],
        "channels": ["email"],
        "quiet_start": "21:00:00",
        "quiet_end": "08:00:00",
    }

    response = api.put_json(url, {"lead_days": [3, 14], "channels": ["webhook", "email"]})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "lead_days": [14, 3],
        "channels": ["email", "webhook"],
        "quiet_start": "21:00:00",
        "quiet_end": "08:00:00",
    }
    assert api.get(url).json()["lead_days"] == [14, 3]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"lead_days": [0], "channels": ["email"]}, 422, "invalid_lead_days"),
        ({"lead_days": [7], "channels": ["pigeon"]}, 422, "invalid_channels"),
        ({"lead_days": [7], "channels": ["sms"]}, 422, "phone_missing"),
        ({"lead_days": [7], "channels": ["email", "webhook"]}, 422, "webhook_missing"),
        ({"lead_days": "7", "channels": ["email"]}, 422, None),
        ({"lead_days": [True], "channels": ["email"]}, 422, "invalid"),
        ({"lead_days": ["7"], "channels": ["email"]}, 422, "invalid"),
        ({"lead_days": [7.0], "channels": ["email"]}, 422, "invalid"),
        ({"channels": ["email"]}, 422, None),
    ],
)
def test_bad_reminders_are_422_and_write_nothing(api, line, payload, status, code):
    response = api.put_json(f"/api/v1/lines/{line.pk}/reminders", payload)

    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
    assert ReminderSetting.objects.count() == 0


def test_another_users_line_is_404(other_api, line):
    assert (
        other_api.put_json(
            f"/api/v1/lines/{line.pk}/reminders", {"lead_days": [7], "channels": ["email"]}
        ).status_code
        == 404
    )
    assert (
        other_api.put_json(
            f"/api/v1/lines/{line.pk}/auto-renew", {"enabled": True, "plan_id": 1, "days_before": 3}
        ).status_code
        == 404
    )


def test_auto_renew_put_and_get(api, line, claro):
    plan = Plan.objects.get(carrier=claro, code="max-10")
    url = f"/api/v1/lines/{line.pk}/auto-renew"
    with clock.frozen(lima(TODAY)):
        assert api.get(url).json() == {
            "enabled": False,
            "plan_id": None,
            "days_before": 3,
            "next_charge_on": None,
            "deadline": None,
        }

        response = api.put_json(url, {"enabled": True, "plan_id": plan.pk, "days_before": 5})

    assert response.status_code == 200, response.content
    # Claro restricts on day 61: 1 August; the charge goes 5 days before
    assert response.json() == {
        "enabled": True,
        "plan_id": plan.pk,
        "days_before": 5,
        "next_charge_on": "2026-07-27",
        "deadline": "2026-08-01",
    }


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"enabled": True, "plan_id": 999999, "days_before": 3}, "plan_not_found"),
        ({"enabled": True, "plan_id": "PLAN", "days_before": 3}, None),
        ({"enabled": True, "plan_id": "PLAN_OTHER", "days_before": 3}, "plan_wrong_carrier"),
        ({"enabled": True, "plan_id": "PLAN", "days_before": 1}, "invalid_days_before"),
        ({"enabled": True, "plan_id": "PLAN", "days_before": 10**9}, "invalid_days_before"),
        ({"enabled": "maybe", "plan_id": "PLAN", "days_before": 3}, None),
    ],
)
def test_bad_auto_renew_is_422_and_writes_nothing(api, line, claro, payload, code):
    plans = {
        "PLAN": Plan.objects.get(carrier=claro, code="max-10").pk,
        "PLAN_OTHER": Plan.objects.exclude(carrier=claro).first().pk,
    }
    payload = {
        key: plans.get(value, value) if isinstance(value, str) else value for key, value in payload.items()
    }
    if code is None:
        payload["days_before"] = "three"

    response = api.put_json(f"/api/v1/lines/{line.pk}/auto-renew", payload)

    assert response.status_code == 422, response.content
    if code:
        assert response.json()["code"] == code
    assert not line.autorenew_runs.exists()
    from vigencia.lines.models import AutoRenewSetting

    assert AutoRenewSetting.objects.count() == 0


def test_done_when_a_bitel_line_recharged_250_days_ago(api, user, demo_catalog, simulator, run_tasks):
    """The issue's "Done when": add a Bitel line recharged 250 days ago, see the warning and the
    dates, turn on auto-renew, run the keep-alive tick at future dates: reminders, the auto-renewal
    and the emails appear, each once."""
    recharged = TODAY - timedelta(days=250)
    with clock.frozen(lima(TODAY)):
        # given a new Bitel line recharged 250 days ago: Bitel cuts off after 255 days
        response = api.post_json(
            "/api/v1/lines",
            {"msisdn": "+51 912 345 678", "carrier": "bitel-pe", "last_recharge_at": str(recharged)},
        )
        assert response.status_code == 201, response.content
        line_id = response.json()["id"]
        # then the line warns: cut off on 7 June, number lost on 5 September
        assert response.json()["next_deadline"] == {"kind": "suspended", "at": "2026-06-07"}
        assert response.json()["number_lost_at"] == "2026-09-05"
        timeline = api.get(f"/api/v1/lines/{line_id}/timeline").json()
        assert [(event["kind"], event["at"]) for event in timeline["events"]] == [
            ("notice", "2026-05-23"),
            ("suspended", "2026-06-07"),
            ("recycled", "2026-09-05"),
        ]
        # when the subscriber funds the wallet and turns on auto-renew 3 days before
        fund(user, 3000)
        plan = Plan.objects.get(carrier__code="bitel-pe", code="ilimitado-10")
        response = api.put_json(
            f"/api/v1/lines/{line_id}/auto-renew", {"enabled": True, "plan_id": plan.pk, "days_before": 3}
        )
        assert response.json()["next_charge_on"] == "2026-06-04"

    # and the keep-alive job runs every day for two weeks, twice a day (a retry, a second scheduler)
    for day in range(14):
        for hour in (10, 15):
            at = lima(TODAY + timedelta(days=day)).replace(hour=hour)
            keepalive_tick(at=at)
            with clock.frozen(at):
                run_tasks()

    # then the 7-day reminder went on 1 June; the renewal on 4 June moved the deadline before the 1-day one
    assert list(ReminderSent.objects.values_list("deadline", "lead_days", "channel")) == [
        (date(2026, 6, 7), 7, "email")
    ]
    [order] = RenewalOrder.objects.all()
    assert (order.channel, order.status, order.plan_code) == ("auto_renew", "completed", "ilimitado-10")
    assert list(AutoRenewRun.objects.values_list("period", "status")) == [(date(2026, 6, 7), "ordered")]
    line = Line.objects.get(pk=line_id)
    assert line.last_recharge_at == date(2026, 6, 4)
    assert line.status == "active"
    # and each email went once: the reminder, the upcoming charge, the renewal done
    assert sorted(Notification.objects.filter(user=user).values_list("dedupe_key", flat=True)) == sorted(
        [
            f"reminder:{line_id}:2026-06-07:7:email",
            f"autorenew:{line_id}:2026-06-07:upcoming",
            f"order:{order.pk}:succeeded",
        ]
    )
    assert len(mail.outbox) == 3
    assert Notification.objects.filter(status="sent").count() == 3
