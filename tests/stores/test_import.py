"""`vigencia stores import FILE.csv`: good rows kept, bad rows reported by line, bad files refused."""

from __future__ import annotations

from datetime import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from vigencia.stores.models import Store

HEADER = "code,name,address,district,city,lat,lng,carriers,services,phone,hours\n"
GOOD = (
    "LIM-1,Tienda Larco,Av. José Larco 345,Miraflores,Lima,-12.12195,-77.02965,claro-pe|entel-pe,"
    'renewal|id_check,01 445 2101,"mon-fri 09:00-20:00; sat 10:00-14:00"\n'
    "LIM-2,Tienda Grau,Av. Grau 320,Barranco,Lima,-12.148,-77.021,bitel-pe,renewal,,daily 10:00-02:00\n"
)


def _import(tmp_path, content: str | bytes):
    path = tmp_path / "stores.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    out, err = StringIO(), StringIO()
    try:
        call_command("stores", "import", str(path), stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_import_creates_stores_and_again_changes_nothing(tmp_path, demo_catalog):
    # when
    code, out, _err = _import(tmp_path, HEADER + GOOD)
    again, out_again, _err = _import(tmp_path, HEADER + GOOD)

    # then
    assert (code, again) == (0, 0)
    assert "2 created, 0 updated, 0 refused." in out
    assert "0 created, 2 updated, 0 refused." in out_again
    assert Store.objects.count() == 2
    larco = Store.objects.get(code="LIM-1")
    assert (larco.latitude, larco.longitude, larco.phone, larco.timezone) == (
        -12.12195,
        -77.02965,
        "+5114452101",
        "America/Lima",
    )
    assert sorted(larco.carriers.values_list("code", flat=True)) == ["claro-pe", "entel-pe"]
    assert sorted(larco.services.values_list("service", flat=True)) == ["id_check", "renewal"]
    assert list(larco.hours.values_list("weekday", "opens", "closes"))[-1] == (5, time(10), time(14))
    assert larco.hours.count() == 6


@pytest.mark.django_db
def test_without_a_code_a_store_is_known_by_name_and_address(tmp_path, demo_catalog):
    rows = "name,address,district,city,lat,lng,carriers,services,phone,hours\n" + (
        "Tienda,Av. Arequipa 1,Lince,Lima,-12.08,-77.03,claro-pe,renewal,,mon 09:00-10:00\n"
    )
    _import(tmp_path, rows)
    _import(tmp_path, rows.replace("-12.08", "-12.081"))

    assert list(Store.objects.values_list("name", "latitude")) == [("Tienda", -12.081)]


@pytest.mark.django_db
def test_bad_rows_are_reported_by_line_and_good_rows_kept(tmp_path, demo_catalog):
    bad = (
        "B-1,Lat wrong,Av. 1,Lince,Lima,-95,-77.03,claro-pe,renewal,,mon 09:00-10:00\n"
        "B-2,Carrier wrong,Av. 2,Lince,Lima,-12.1,-77.03,nocarrier,renewal,,mon 09:00-10:00\n"
        "B-3,Hours wrong,Av. 3,Lince,Lima,-12.1,-77.03,claro-pe,renewal,,mon 9-10\n"
        "B-4,,Av. 4,Lince,Lima,-12.1,-77.03,claro-pe,renewal,,\n"
        "B-5,Service wrong,Av. 5,Lince,Lima,-12.1,-77.03,claro-pe,haircut,,\n"
        "B-6,Phone wrong,Av. 6,Lince,Lima,-12.1,-77.03,claro-pe,renewal,12,\n"
        "B-7,Extra,Av. 7,Lince,Lima,-12.1,-77.03,claro-pe,renewal,,,surprise\n"
    )

    # when
    code, out, _err = _import(tmp_path, HEADER + GOOD + bad)

    # then
    assert code == 3
    assert "2 created, 0 updated, 7 refused." in out
    assert out.splitlines()[1:] == [
        "  line 4: Coordinates must be a latitude between -90 and 90 and a longitude between -180 and 180.",
        "  line 5: Unknown carrier nocarrier.",
        '  line 6: Opening hours "mon 9-10" are not like "mon-fri 09:00-20:00; sat 10:00-14:00".',
        "  line 7: name is required.",
        "  line 8: Unknown service haircut; use renewal, sim_sale, voucher_redeem, id_check.",
        "  line 9: This is not a valid phone number in PE. Numbers abroad start with + and the country code.",
        "  line 10: The row has more fields than the header.",
    ]
    assert sorted(Store.objects.values_list("code", flat=True)) == ["LIM-1", "LIM-2"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ((HEADER + GOOD).encode("latin-1", errors="replace") + b"\xff\xfe", "is not UTF-8 text"),
        (
            "name,address,city\nTienda,Av. 1,Lima\n",
            "lacks the columns: district, lat, lng, carriers, services",
        ),
        ("", "lacks the columns: name, address"),
    ],
)
def test_an_unreadable_file_writes_nothing(tmp_path, demo_catalog, content, message):
    code, _out, err = _import(tmp_path, content)

    assert code == 1
    assert message in err
    assert "Nothing was imported." in err
    assert Store.objects.count() == 0


@pytest.mark.django_db
def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("stores", "import", str(tmp_path / "nope.csv"))
