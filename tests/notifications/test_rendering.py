"""Each kind renders in each language: exact subjects, dates for people, escaped HTML."""

from __future__ import annotations

import pytest

from tests.notifications.conftest import FAILED_CONTEXT, RENEWAL_CONTEXT
from vigencia.notifications.rendering import render


@pytest.mark.parametrize(
    ("kind", "context", "language", "subject"),
    [
        (
            "renewal_succeeded",
            RENEWAL_CONTEXT,
            "en",
            "Your line +51 912 345 678 is renewed until Jan. 5, 2026",
        ),
        (
            "renewal_succeeded",
            RENEWAL_CONTEXT,
            "es",
            "Tu línea +51 912 345 678 está renovada hasta el 5 de enero de 2026",
        ),
        ("renewal_succeeded", RENEWAL_CONTEXT, "zh-hans", "您的号码 +51 912 345 678 已续期至 2026年1月5日"),
        ("renewal_failed", FAILED_CONTEXT, "en", "We could not renew your line +51 912 345 678"),
        ("renewal_failed", FAILED_CONTEXT, "es", "No pudimos renovar tu línea +51 912 345 678"),
        ("renewal_failed", FAILED_CONTEXT, "zh-hans", "您的号码 +51 912 345 678 续期失败"),
        (
            "wallet_topped_up",
            {"amount": "S/ 20.00", "balance": "S/ 35.50"},
            "en",
            "Your wallet was topped up with S/ 20.00",
        ),
        (
            "wallet_topped_up",
            {"amount": "S/ 20.00", "balance": "S/ 35.50"},
            "es",
            "Se recargó tu billetera con S/ 20.00",
        ),
        (
            "wallet_topped_up",
            {"amount": "S/ 20.00", "balance": "S/ 35.50"},
            "zh-hans",
            "您的钱包已充值 S/ 20.00",
        ),
        ("message", {"subject": "Línea restringida", "body": "Recarga."}, "es", "Línea restringida"),
        ("message", {"subject": "号码已受限", "body": "请充值。"}, "zh-hans", "号码已受限"),
        ("message", {"subject": "Line restricted", "body": "Recharge."}, "en", "Line restricted"),
    ],
)
def test_each_kind_has_its_subject_in_each_language(kind, context, language, subject):
    assert render(kind=kind, context=context, language=language).subject == subject


def test_renewal_succeeded_bodies_read_in_the_users_language():
    rendered = render(kind="renewal_succeeded", context=RENEWAL_CONTEXT, language="es")

    assert rendered.text == (
        "Tu línea +51 912 345 678 de Claro se renovó con Recarga 10 por S/ 10.00. "
        "El plan es válido hasta el 5 de enero de 2026.\n\n"
        "Comprobante: http://127.0.0.1:8000/orders/42/receipt/\n"
    )
    assert '<html lang="es">' in rendered.html
    assert '<a href="http://127.0.0.1:8000/orders/42/receipt/"' in rendered.html
    assert "Ver el comprobante" in rendered.html


def test_renewal_failed_says_whether_the_money_came_back():
    refunded = render(kind="renewal_failed", context=FAILED_CONTEXT, language="zh-hans")
    not_charged = render(kind="renewal_failed", context={**FAILED_CONTEXT, "refunded": False}, language="en")

    assert "我们已将 S/ 10.00 退回您的钱包，您可以用它重试。" in refunded.text
    assert "You were not charged S/ 10.00." in not_charged.text
    assert "wallet" not in not_charged.text.split("\n")[0]


def test_wallet_topped_up_body_names_the_balance():
    rendered = render(
        kind="wallet_topped_up", context={"amount": "S/ 20.00", "balance": "S/ 35.50"}, language="en"
    )

    assert rendered.text == "We added S/ 20.00 to your Vigencia wallet. Your balance is now S/ 35.50.\n"


def test_a_message_keeps_its_text_plain_and_escapes_its_html():
    rendered = render(
        kind="message",
        context={"subject": "Hi <b>\nthere", "body": "a & b\n<script>x</script>"},
        language="en",
    )

    # A subject is one line (a mail header cannot hold a line break); the text body is as given.
    assert rendered.subject == "Hi <b> there"
    assert rendered.text == "a & b\n<script>x</script>\n"
    assert "<p>a &amp; b<br>&lt;script&gt;x&lt;/script&gt;</p>" in rendered.html
    assert "<script>" not in rendered.html
