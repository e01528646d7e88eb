"""Back office: every changelist and a change page open for staff; lines and events are read-only."""

from datetime import date

import pytest

from tests.factories import UserFactory
from vigencia.accounts.services import api_token_issue
from vigencia.catalog.models import Plan
from vigencia.lines.models import Line, LineEvent
from vigencia.lines.services import line_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    admin = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.fixture
def line(user, claro):
    line = line_add(
        owner=user, msisdn="+51 912 345 678", carrier=claro, nickname="Mine", valid_until=date.today()
    )
    return line


def test_every_changelist_opens(staff, line):
    for path in [
        "/admin/accounts/user/",
        "/admin/catalog/carrier/",
        "/admin/catalog/plan/",
        "/admin/lines/line/",
        "/admin/lines/lineevent/",
    ]:
        response = staff.get(path)
        assert response.status_code == 200, path


def test_every_change_page_opens(staff, user, claro, line):
    plan = Plan.objects.filter(carrier=claro).first()
    event = LineEvent.objects.get(line=line)
    for path in [
        f"/admin/accounts/user/{user.pk}/change/",
        f"/admin/catalog/carrier/{claro.pk}/change/",
        f"/admin/catalog/plan/{plan.pk}/change/",
        f"/admin/lines/line/{line.pk}/change/",
        f"/admin/lines/lineevent/{event.pk}/change/",
        "/admin/catalog/plan/add/",
        "/admin/catalog/carrier/add/",
    ]:
        response = staff.get(path)
        assert response.status_code == 200, path


def test_user_page_shows_roles_and_token_prefix_but_no_hash_or_digest(staff, user):
    row, token = api_token_issue(user=user)

    changelist = staff.get("/admin/accounts/user/").content.decode()
    page = staff.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    assert user.email in changelist
    assert row.prefix in page
    assert token not in page
    assert row.digest not in page
    assert user.password not in page
    assert "md5$" not in page
    assert "argon2" not in page


def test_plan_list_shows_the_price_as_money(staff, claro):
    page = staff.get("/admin/catalog/plan/", {"carrier__id__exact": claro.pk}).content.decode()

    assert "S/\xa010.00" in page


def test_carrier_page_groups_the_keep_alive_policy(staff, claro):
    page = staff.get(f"/admin/catalog/carrier/{claro.pk}/change/").content.decode()

    assert "Keep-alive policy" in page
    assert 'name="cutoff_after_days"' in page


def test_lines_are_found_by_the_number_as_people_write_it_and_filtered(staff, line, other_user, claro):
    line_add(owner=other_user, msisdn="987654321", carrier=claro)

    found = staff.get("/admin/lines/line/", {"q": "912 345 678"})
    by_status = staff.get("/admin/lines/line/", {"status__exact": "active", "carrier__id__exact": claro.pk})

    assert found.context["cl"].result_count == 1
    assert by_status.context["cl"].result_count == 2
    assert "+51 912 345 678" in found.content.decode()
    assert line.owner.email in found.content.decode()


def test_lines_and_events_cannot_be_changed_in_the_back_office(staff, line):
    event = LineEvent.objects.get(line=line)

    posted = staff.post(f"/admin/lines/line/{line.pk}/change/", {"nickname": "Hacked", "status": "recycled"})
    add = staff.get("/admin/lines/line/add/")
    delete = staff.post(f"/admin/lines/lineevent/{event.pk}/delete/", {"post": "yes"})

    assert posted.status_code == 403
    assert add.status_code == 403
    assert delete.status_code == 403
    line.refresh_from_db()
    assert (line.nickname, line.status) == ("Mine", "active")
    assert Line.objects.count() == 1
    assert LineEvent.objects.count() == 1


def test_a_support_agent_sees_lines_but_not_carriers_editing(client, line, seeded):
    from django.contrib.auth.models import Group

    agent = UserFactory(is_staff=True)
    agent.groups.add(Group.objects.get(name="support"))
    client.force_login(agent)

    assert client.get("/admin/lines/line/").status_code == 200
    assert client.get(f"/admin/lines/line/{line.pk}/change/").status_code == 200
    assert client.get("/admin/catalog/carrier/add/").status_code == 403


def test_the_back_office_needs_staff(client, user):
    client.force_login(user)

    response = client.get("/admin/lines/line/")

    assert response.status_code == 302
