import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core import serializers
from django.core.management import call_command
from django.db import connection

from tests.pdfs import pdf_strings
from vigencia.core import clock
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.services import InsufficientFunds, account_system
from vigencia.vouchers import exports, services
from vigencia.vouchers.codes import pin_digest, pin_display, serial_display
from vigencia.vouchers.models import VoucherBatch, VoucherCode, VoucherEvent


def _balance(kind, key, currency="PEN"):
    return account_system(kind=kind, currency=currency, key=key).balance.amount_minor


def test_a_batch_sold_to_a_reseller_is_active_and_moves_its_face_value_into_the_liability(
    make_batch, reseller
):
    # when the reseller gets 3 codes of the S/ 10 plan
    made = make_batch(3)

    # then the codes are active, stored with only the HMAC of each PIN
    codes = list(VoucherCode.objects.filter(batch=made.batch).order_by("serial"))
    assert [code.status for code in codes] == ["active"] * 3
    assert [code.serial for code in codes] == made.serials
    assert [code.pin_digest for code in codes] == [pin_digest(pin) for pin in made.pins]
    # and S/ 30 left the reseller's prepaid balance for the batch's voucher liability
    assert services.reseller_prepaid_account(reseller=reseller, currency="PEN").balance_minor == 97_000
    assert _balance("voucher_liability", made.batch.liability_key) == 3_000
    assert made.batch.sold_at is not None or VoucherBatch.objects.get(pk=made.batch.pk).sold_at is not None


def test_a_reseller_without_the_funds_gets_409_and_nothing_is_written(make_batch, reseller):
    before = (VoucherBatch.objects.count(), VoucherCode.objects.count(), LedgerTransaction.objects.count())

    with pytest.raises(InsufficientFunds):
        make_batch(101)  # S/ 1,010 against S/ 1,000

    assert (
        VoucherBatch.objects.count(),
        VoucherCode.objects.count(),
        LedgerTransaction.objects.count(),
    ) == before


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"count": 0}, "invalid_count"),
        ({"count": 1, "expires_on_days": 0}, "invalid_expiry"),
        ({"count": 1, "expires_on_days": 5000}, "invalid_expiry"),
    ],
)
def test_bad_batches_are_refused(make_batch, kwargs, code):
    days = kwargs.pop("expires_on_days", None)
    if days is not None:
        kwargs["expires_on"] = clock.today() + timedelta(days=days)
    with pytest.raises(services.InvalidInput) as error:
        make_batch(**kwargs)
    assert error.value.code == code
    assert VoucherBatch.objects.count() == 0


def test_an_operator_batch_is_unsold_until_activated_as_promotion(make_batch):
    made = make_batch(2, reseller=None)
    assert set(VoucherCode.objects.values_list("status", flat=True)) == {"created"}

    assert services.batch_activate(batch=made.batch) == 2
    assert services.batch_activate(batch=made.batch) == 0  # exactly once

    assert set(VoucherCode.objects.values_list("status", flat=True)) == {"active"}
    assert _balance("promotions_expense", "vouchers") == -2_000
    assert _balance("voucher_liability", made.batch.liability_key) == 2_000


def test_the_export_is_taken_exactly_once(make_batch):
    made = make_batch(2)
    csv_text = "serial,pin\n" + "".join(f"{s},{p}\n" for s, p in zip(made.serials, made.pins, strict=True))
    services.batch_export_hold(batch=made.batch, csv_text=csv_text, pdf=b"%PDF")

    content = services.batch_export_take(batch=made.batch)
    with pytest.raises(services.Conflict) as second:
        services.batch_export_take(batch=made.batch)

    assert zipfile.ZipFile(io.BytesIO(content)).read("codes.csv").decode() == csv_text
    assert second.value.code == "export_already_downloaded"


def test_cli_generate_writes_the_csv_and_the_pdf_and_shows_progress(plan, reseller, tmp_path, capsys):
    out = tmp_path / "codes.csv"

    call_command(
        "vouchers",
        "generate",
        "--plan",
        "claro-pe/max-10",
        "--count",
        "25",
        "--reseller",
        reseller.email,
        "--out",
        str(out),
    )

    rows = list(csv.DictReader(out.open()))
    batch = VoucherBatch.objects.get()
    assert len(rows) == 25
    assert rows[0]["serial"] == serial_display(VoucherCode.objects.order_by("serial").first().serial)
    assert rows[0]["plan_code"] == "max-10"
    assert rows[0]["face_value_minor"] == "1000"
    assert {pin_digest(row["pin"].replace(" ", "")) for row in rows} == set(
        VoucherCode.objects.values_list("pin_digest", flat=True)
    )
    assert (tmp_path / "codes.pdf").read_bytes().startswith(b"%PDF")
    assert batch.exported_at is not None
    assert "25/25" in capsys.readouterr().err  # the tqdm progress bar
    assert VoucherEvent.objects.get(batch=batch).count == 25


def test_cli_generate_for_a_reseller_without_out_holds_the_export_for_one_download(plan, reseller):
    call_command(
        "vouchers",
        "generate",
        "--plan",
        "max-10",
        "--count",
        "2",
        "--reseller",
        reseller.email,
        "--no-progress",
    )

    batch = VoucherBatch.objects.get()
    archive = zipfile.ZipFile(io.BytesIO(services.batch_export_take(batch=batch)))
    assert sorted(archive.namelist()) == ["cards.pdf", "codes.csv"]


def test_a_dump_of_every_table_contains_none_of_the_pins(make_batch, user, line, tmp_path):
    # given codes made, one redeemed, one voided, and a wrong PIN tried
    made = make_batch(5)
    services.voucher_redeem(pin=made.pins[0], redeemer=user, ip="10.0.0.1", line=line)
    services.voucher_void(batch=made.batch, serial_from=made.serials[1], serial_to=made.serials[1])
    with pytest.raises(services.VoucherInvalid):
        services.voucher_redeem(pin=made.pins[1], redeemer=user, ip="10.0.0.1", line=line)

    # when every table is dumped, row by row, as text
    dump = io.StringIO()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                dump.write(repr(row))
    dump.write(serializers.serialize("json", VoucherCode.objects.all()))
    text = dump.getvalue()

    # then no PIN appears, neither as typed nor grouped
    assert made.pins
    assert all(pin not in text for pin in made.pins)
    assert all(pin[:4] + " " + pin[4:8] not in text for pin in made.pins)


def test_a_pdf_sheet_has_a_page_per_ten_cards(make_batch):
    from vigencia.vouchers.exports import cards_pdf

    made = make_batch(11)
    pdf = cards_pdf(batch=made.batch, cards=list(zip(made.serials, made.pins, strict=True)))

    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 2


def test_a_pdf_sheet_carries_the_instructions_in_english_spanish_and_chinese(make_batch):
    # given a batch of 2 codes
    made = make_batch(2)
    expires = made.batch.expires_on.isoformat()

    # when
    pdf = exports.cards_pdf(batch=made.batch, cards=list(zip(made.serials, made.pins, strict=True)))

    # then each card shows its PIN and the instructions in the three languages, the Chinese ones drawn
    # in the standard Simplified Chinese font
    assert b"/BaseFont /STSong-Light" in pdf
    shown = pdf_strings(pdf)
    for pin in made.pins:
        assert f"PIN {pin_display(pin)}".encode() in shown
    assert shown.count(b"Redeem at vigencia.pe") == 2
    assert shown.count(b"Canjea en vigencia.pe") == 2
    chinese = f"付款前请核实序列号为正品。有效期至 {expires}"
    assert shown.count(chinese.encode("utf-16-be")) == 2


def test_the_csv_export_is_what_the_csv_module_writes_even_for_a_plan_name_with_commas_and_quotes(
    make_batch,
):
    # given
    made = make_batch(3)
    batch = made.batch
    batch.plan.name_en = 'Max 10, "unlimited"'
    stream = io.StringIO()

    # when
    export = exports.BatchExport(stream, batch=batch)
    export.add(list(zip(made.serials, made.pins, strict=True)))

    # then
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(exports.CSV_HEADER)
    for serial, pin in zip(made.serials, made.pins, strict=True):
        writer.writerow(
            [
                serial_display(serial),
                pin_display(pin),
                batch.plan.code,
                'Max 10, "unlimited"',
                str(batch.face_minor),
                "PEN",
                batch.expires_on.isoformat(),
            ]
        )
    assert stream.getvalue() == expected.getvalue()
    assert list(csv.reader(io.StringIO(stream.getvalue())))[1][3] == 'Max 10, "unlimited"'


def test_cli_generate_into_a_folder_that_does_not_exist_creates_no_batch(plan, command_line, tmp_path):
    status, _out, err = command_line(
        "vouchers",
        "generate",
        "--plan",
        "claro-pe/max-10",
        "--count",
        "5",
        "--out",
        str(tmp_path / "no" / "c.csv"),
    )

    assert (status, err) == (
        1,
        f"CommandError: Cannot write {tmp_path / 'no' / 'c.csv'}: No such file or directory\n",
    )
    assert VoucherBatch.objects.count() == 0


@pytest.mark.parametrize(
    ("argv", "status", "last_line"),
    [
        (["activate", "999"], 1, "CommandError: no batch #999"),
        (["void", "999"], 1, "CommandError: no batch #999"),
        (
            ["generate", "--plan", "max-10", "--count", "0", "--out", "c.csv"],
            2,
            "vigencia vouchers generate: error: argument --count: 0 is out of range (from 1 to 9999999)",
        ),
        (
            [
                "credit",
                "--reseller",
                "shop@example.com",
                "--amount-minor",
                "500",
                "--currency",
                "XYZ",
                "--reference",
                "t-2",
            ],
            2,
            "vigencia vouchers credit: error: argument --currency: not an ISO 4217 currency code: 'XYZ'",
        ),
    ],
)
def test_cli_bad_input_is_a_clear_error_and_writes_nothing(reseller, command_line, argv, status, last_line):
    transactions = LedgerTransaction.objects.count()

    code, out, err = command_line("vouchers", *argv)

    assert (code, out, err.splitlines()[-1]) == (status, "", last_line)
    assert LedgerTransaction.objects.count() == transactions
    assert VoucherBatch.objects.count() == 0


def test_cli_void_of_serials_from_another_batch_or_mistyped_voids_nothing(make_batch, command_line):
    made, other = make_batch(count=3), make_batch(count=2)
    mistyped = made.serials[1][:-1] + str((int(made.serials[1][-1]) + 1) % 10)  # a wrong check digit

    for first, last in ((other.serials[0], other.serials[1]), (made.serials[0], mistyped)):
        status, out, err = command_line("vouchers", "void", str(made.batch.pk), "--from", first, "--to", last)
        assert (status, out, err) == (
            1,
            "",
            f"CommandError: invalid_range: Those are not serials of batch #{made.batch.pk}.\n",
        )
    assert set(VoucherCode.objects.values_list("status", flat=True)) == {"active"}

    status, out, _err = command_line(
        "vouchers",
        "void",
        str(made.batch.pk),
        "--from",
        serial_display(made.serials[0]),
        "--to",
        made.serials[1],
    )
    assert (status, out) == (0, f"batch #{made.batch.pk}: 2 codes voided\n")
