"""/api/v1/lines: a subscriber's lines, their deadlines and history; nobody else's."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vigencia.lines.models import Line, LineEvent, LineStatus
from vigencia.lines.services import line_add

pytestmark = pytest.mark.django_db

ICCID = "8951100000123456787"
NOW = datetime(2025, 6, 10, 12, 0, tzinfo=ZoneInfo("America/Lima"))


@pytest.fixture
def at_now(frozen_clock):
    with frozen_clock(NOW):
        yield NOW


@pytest.fixture
def line(user, claro, at_now) -> Line:
    return line_add(owner=user, msisdn="912345678", carrier=claro, nickname="Mine")


def test_add_a_peru_mobile_in_international_form(api, user, claro, at_now):
    response = api.post_json(
        "/api/v1/lines",
        {
            "msisdn": "+51 912 345 678",
            "carrier": "claro-pe",
            "nickname": "Trabajo",
            "iccid": "8951 1000 0012 3456 787",
            "last_recharge_at": "2025-06-01",
        },
    )

    assert response.status_code == 201, response.content
    line = Line.objects.get()
    assert (line.owner, line.msisdn, line.carrier) == (user, "+51912345678", claro)
    body = response.json()
    assert datetime.fromisoformat(body.pop("created_at")) == NOW
    assert body == {
        "id": line.pk,
        "msisdn": "+51912345678",
        "msisdn_display": "+51 912 345 678",
        "carrier": "claro-pe",
        "nickname": "Trabajo",
        "iccid": ICCID,
        "status": "active",
        "last_recharge_at": "2025-06-01",
        "valid_until": None,
        # Claro restricts outgoing service 60 days after the last recharge
        "deadline": "2025-07-31",
        "days_left": 51,
        "urgency": "ok",
        # ... cuts it off at 270 days, and may reassign the number 90 days after that
        "next_deadline": {"kind": "restricted", "at": "2025-08-01"},
        "number_lost_at": "2026-05-28",
    }
    assert list(LineEvent.objects.filter(line=line).values_list("kind", flat=True)) == ["added"]


def test_add_a_national_number_stores_e164(api, claro, at_now):
    response = api.post_json("/api/v1/lines", {"msisdn": "912345678", "carrier": "claro-pe"})

    assert response.status_code == 201
    body = response.json()
    assert (body["msisdn"], body["nickname"], body["iccid"]) == ("+51912345678", "", "")
    assert (body["deadline"], body["days_left"], body["urgency"]) == (None, None, "unknown")


def test_urgency_counts_days_to_valid_until(api, claro, at_now):
    response = api.post_json(
        "/api/v1/lines", {"msisdn": "912345678", "carrier": "claro-pe", "valid_until": "2025-06-15"}
    )

    body = response.json()
    assert (body["deadline"], body["days_left"], body["urgency"]) == ("2025-06-15", 5, "urgent")


def test_a_short_bundle_on_a_carrier_that_restricts_later_is_not_urgent(api, claro, at_now):
    """Claro restricts 60 days after a recharge: a 7-day bundle bought today runs out on 17 June,
    but the number is safe until 9 August, which is what the days left count to."""
    response = api.post_json(
        "/api/v1/lines",
        {
            "msisdn": "912345678",
            "carrier": "claro-pe",
            "last_recharge_at": "2025-06-10",
            "valid_until": "2025-06-17",
        },
    )

    body = response.json()
    assert (body["valid_until"], body["deadline"], body["days_left"], body["urgency"]) == (
        "2025-06-17",
        "2025-08-09",
        60,
        "ok",
    )
    assert body["next_deadline"] == {"kind": "restricted", "at": "2025-08-10"}


def test_days_left_go_below_zero_once_the_line_is_restricted(api, claro, at_now):
    response = api.post_json(
        "/api/v1/lines", {"msisdn": "912345678", "carrier": "claro-pe", "last_recharge_at": "2025-04-01"}
    )

    body = response.json()
    # restricted on 1 June (60 days after 1 April), 9 days ago; cut off later
    assert (body["deadline"], body["days_left"], body["urgency"]) == ("2025-05-31", -10, "overdue")


def test_the_same_number_twice_is_409_and_writes_nothing(api, line):
    response = api.post_json("/api/v1/lines", {"msisdn": "+51 912-345-678", "carrier": "claro-pe"})

    assert response.status_code == 409
    assert response.json() == {
        "code": "line_exists",
        "message": "You have already registered this number.",
        "details": {"msisdn": "+51912345678"},
    }
    assert Line.objects.count() == 1
    assert LineEvent.objects.count() == 1


def test_two_users_may_register_the_same_number(api, other_api, claro, at_now):
    first = api.post_json("/api/v1/lines", {"msisdn": "912345678", "carrier": "claro-pe"})
    second = other_api.post_json("/api/v1/lines", {"msisdn": "912345678", "carrier": "claro-pe"})

    assert (first.status_code, second.status_code) == (201, 201)


def test_list_shows_only_the_callers_live_lines_nearest_deadline_first(api, user, other_user, claro, at_now):
    late = line_add(owner=user, msisdn="987654321", carrier=claro, valid_until=date(2025, 9, 1))
    soon = line_add(owner=user, msisdn="912345678", carrier=claro, valid_until=date(2025, 6, 20))
    removed = line_add(owner=user, msisdn="955111222", carrier=claro)
    Line.objects.filter(pk=removed.pk).update(removed_at=NOW)
    line_add(owner=other_user, msisdn="944333444", carrier=claro)

    response = api.get("/api/v1/lines")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [soon.pk, late.pk]
    assert body["items"][0]["urgency"] == "soon"


def test_list_pages_with_limit_and_offset(api, user, claro, at_now):
    ids = [
        line_add(
            owner=user, msisdn=f"9123456{n:02d}", carrier=claro, valid_until=date(2025, 7, 1) + timedelta(n)
        ).pk
        for n in range(5)
    ]

    page = api.get("/api/v1/lines", {"limit": 2, "offset": 1}).json()

    assert page["count"] == 5
    assert [item["id"] for item in page["items"]] == ids[1:3]


@pytest.mark.parametrize(
    "query", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "ten"}, {"offset": 10**30}]
)
def test_list_refuses_bad_paging_with_422(api, query):
    response = api.get("/api/v1/lines", query)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_list_default_limit_is_50(api, user, claro, at_now):
    for n in range(51):
        Line.objects.create(owner=user, msisdn=f"+519123456{n:02d}", carrier=claro)

    page = api.get("/api/v1/lines").json()

    assert (page["count"], len(page["items"])) == (51, 50)


def test_get_one_line(api, line):
    response = api.get(f"/api/v1/lines/{line.pk}")

    assert response.status_code == 200
    assert response.json()["msisdn_display"] == "+51 912 345 678"


@pytest.mark.parametrize("method", ["get", "patch_json", "delete"])
def test_another_users_line_is_404_and_untouched(other_api, line, method):
    response = getattr(other_api, method)(
        f"/api/v1/lines/{line.pk}", **({"data": {"nickname": "x"}} if method == "patch_json" else {})
    )

    assert response.status_code == 404
    assert response.json()["code"] == "line_not_found"
    line.refresh_from_db()
    assert (line.nickname, line.removed_at) == ("Mine", None)
    assert LineEvent.objects.filter(line=line).count() == 1


@pytest.mark.parametrize(
    "path", ["/api/v1/lines/999999", "/api/v1/lines/99999999999999999999999", "/api/v1/lines/abc"]
)
def test_unknown_line_ids_are_404(api, path):
    response = api.get(path)

    assert response.status_code == 404


def test_patch_changes_only_the_fields_sent_and_records_it(api, user, line, at_now):
    response = api.patch_json(
        f"/api/v1/lines/{line.pk}", {"nickname": "  Mamá  ", "iccid": ICCID, "valid_until": "2025-08-01"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["nickname"], body["iccid"], body["valid_until"], body["deadline"]) == (
        "Mamá",
        ICCID,
        "2025-08-01",
        "2025-08-01",
    )
    event = LineEvent.objects.filter(line=line, kind="updated").get()
    assert event.actor == user
    assert event.data == {
        "changes": {"nickname": ["Mine", "Mamá"], "iccid": ["", ICCID], "valid_until": [None, "2025-08-01"]}
    }


def test_patch_null_clears_a_date(api, user, claro, at_now):
    line = line_add(owner=user, msisdn="912345678", carrier=claro, valid_until=date(2025, 7, 1))

    response = api.patch_json(f"/api/v1/lines/{line.pk}", {"valid_until": None})

    assert response.status_code == 200
    line.refresh_from_db()
    assert line.valid_until is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"msisdn": "987654321"}, "not_editable"),
        ({"carrier": "movistar-pe"}, "not_editable"),
        ({"nickname": "ok", "status": "recycled"}, "not_editable"),
        ({"iccid": "8951100000123456788"}, "invalid_iccid"),
        ({"nickname": "x" * 61}, "invalid_nickname"),
        ({"valid_until": "2099-01-01"}, "invalid_date"),
        ({"last_recharge_at": "2025-06-11"}, "invalid_date"),
        ({"valid_until": "not a date"}, "invalid"),
        ({"nickname": 5}, "invalid"),
        ({"nickname": "\x00"}, "invalid"),
    ],
)
def test_patch_refuses_bad_changes_with_422_and_writes_nothing(api, line, body, code):
    response = api.patch_json(f"/api/v1/lines/{line.pk}", body)

    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    line.refresh_from_db()
    assert (line.msisdn, line.nickname, line.iccid, line.valid_until, line.status) == (
        "+51912345678",
        "Mine",
        "",
        None,
        LineStatus.ACTIVE,
    )
    assert LineEvent.objects.filter(line=line).count() == 1


def test_delete_removes_softly_and_the_number_may_be_added_again(api, line, at_now):
    response = api.delete(f"/api/v1/lines/{line.pk}")

    assert response.status_code == 204
    assert response.content == b""
    line.refresh_from_db()
    assert line.removed_at == NOW
    assert api.get(f"/api/v1/lines/{line.pk}").status_code == 404
    assert api.get("/api/v1/lines").json()["count"] == 0
    assert api.delete(f"/api/v1/lines/{line.pk}").status_code == 404
    assert api.post_json("/api/v1/lines", {"msisdn": "912345678", "carrier": "claro-pe"}).status_code == 201


def test_events_list_the_history_newest_first(api, user, line, at_now):
    api.patch_json(f"/api/v1/lines/{line.pk}", {"nickname": "Work"})

    response = api.get(f"/api/v1/lines/{line.pk}/events")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [event["kind"] for event in body["items"]] == ["updated", "added"]
    assert body["items"][1]["data"] == {"carrier": "claro-pe", "msisdn": "+51912345678"}


def test_events_of_another_users_line_are_404(other_api, line):
    assert other_api.get(f"/api/v1/lines/{line.pk}/events").status_code == 404


@pytest.mark.parametrize("method", ["get", "post_json"])
def test_lines_need_a_token(anon_api, method):
    response = getattr(anon_api, method)("/api/v1/lines")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert Line.objects.count() == 0
