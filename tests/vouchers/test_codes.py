from stdnum import luhn

from vigencia.vouchers.codes import (
    pin_clean,
    pin_display,
    pin_new,
    pins_new,
    serial_clean,
    serial_display,
    serial_make,
    serials_make,
)


def test_a_serial_carries_batch_position_and_a_luhn_check_digit():
    serial = serial_make(batch_id=12, index=345)

    assert serial[:13] == "0000120000345"
    assert luhn.is_valid(serial)
    assert serial_clean(serial_display(serial)) == serial


def test_a_mistyped_serial_is_refused_before_any_lookup():
    serial = serial_make(batch_id=1, index=1)
    wrong = serial[:-1] + str((int(serial[-1]) + 1) % 10)

    assert serial_clean(wrong) is None
    assert serial_clean("abc") is None
    assert serial_clean(None) is None
    assert serial_clean("1" * 100) is None


def test_pins_have_16_digits_and_are_read_back_as_people_type_them():
    pin = pin_new()

    assert len(pin) == 16
    assert pin.isdigit()
    assert pin_display("1234567890123456") == "1234 5678 9012 3456"
    assert pin_clean("1234 5678-9012 3456") == "1234567890123456"
    assert pin_clean("123456789012345") is None
    assert pin_clean("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦") is None  # non-ASCII digits
    assert pin_clean(12345) is None


def test_serials_made_in_bulk_are_the_ones_made_one_by_one():
    for batch_id, start in [(1, 1), (12, 9_990), (999_999, 999_990), (123_456, 9_999_980)]:
        # when
        bulk = serials_make(batch_id=batch_id, start=start, stop=start + 20)

        # then
        assert bulk == [serial_make(batch_id=batch_id, index=i) for i in range(start, start + 20)]
        assert all(luhn.is_valid(serial) for serial in bulk)


def test_pins_drawn_in_bulk_are_16_digits():
    pins = pins_new(10_000)

    assert len(pins) == 10_000
    assert all(len(pin) == 16 and pin.isdigit() for pin in pins)
    assert len(set(pins)) == 10_000
