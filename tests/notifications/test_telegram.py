"""Telegram: a person connects their chat with the platform's bot by a one-time link, and gets their
notices and reminders there; the bot's webhook, its failures and its set-up command. The Bot API is
a real HTTP server on localhost (`telegram_api`)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command

from tests.lines.keepalive_helpers import lima
from tests.notifications.conftest import RENEWAL_CONTEXT
from vigencia.core import clock
from vigencia.lines.models import Line, ReminderSent
from vigencia.lines.reminders import reminder_settings_set, reminders_send
from vigencia.notifications.models import Notification, TelegramChat
from vigencia.notifications.services import notification_send
from vigencia.notifications.telegram import telegram_link_start

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/notifications/telegram/webhook"
SECRET = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "test-webhook-secret"}
CONNECTED_ES = (
    "Conectado: Vigencia te envía aquí tus recordatorios y avisos. Envía /stop para dejar de recibirlos."
)


def _start(anon_api, text: str, *, chat_id: int = 555, language: str = "es", update_id: int = 1):
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": language},
            "chat": {"id": chat_id, "type": "private"},
            "date": 1764900000,
            "text": text,
        },
    }
    return anon_api.post_json(WEBHOOK, update, **SECRET)


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["start"][0]


def _connect(anon_api, user, chat_id: int = 555) -> None:
    assert _start(anon_api, f"/start {_token(telegram_link_start(user=user))}", chat_id=chat_id).json() == {
        "handled": "linked"
    }


def test_a_person_connects_their_chat_by_the_link_and_gets_their_notices_there(
    telegram_api, anon_api, spanish_user, run_tasks
):
    # given a link asked for from the account page
    link = telegram_link_start(user=spanish_user)
    assert link.startswith("https://t.me/VigenciaTestBot?start=")
    assert len(_token(link)) == 32

    # when Telegram sends the bot "/start <token>" from the person's chat
    response = _start(anon_api, f"/start {_token(link)}")

    # then the chat is theirs, and the bot says so in their language
    assert response.status_code == 200
    assert response.json() == {"handled": "linked"}
    chat = TelegramChat.objects.get(user=spanish_user)
    assert (chat.chat_id, chat.link_expires_at) == (555, None)
    assert telegram_api.sent() == [(555, CONNECTED_ES)]

    # and a notice goes by email and by Telegram
    notifications = notification_send(
        user=spanish_user, kind="renewal_succeeded", context=RENEWAL_CONTEXT, dedupe_key="order:42"
    )
    assert [notification.channel for notification in notifications] == ["email", "telegram"]
    run_tasks()
    assert Notification.objects.get(channel="telegram").status == "sent"
    [(chat_id, text)] = telegram_api.sent()[1:]
    assert chat_id == 555
    assert text.startswith("Tu línea +51 912 345 678 está renovada hasta el 5 de enero de 2026\n\nTu línea ")
    assert text.endswith("\n\nComprobante: http://127.0.0.1:8000/orders/42/receipt/")


def test_the_same_start_again_changes_nothing_and_another_chat_or_a_late_one_is_refused(
    telegram_api, anon_api, spanish_user, user
):
    # given a link used once from chat 555
    token = _token(telegram_link_start(user=spanish_user))
    _start(anon_api, f"/start {token}")

    # when Telegram sends it again (a retry), and someone else's chat sends the same link
    again = _start(anon_api, f"/start {token}")
    other = _start(anon_api, f"/start {token}", chat_id=666, language="en")

    # then the first is answered alike and the second refused, in its own language; chat 555 stays
    assert again.json() == {"handled": "linked"}
    assert other.json() == {"handled": "link_refused"}
    assert TelegramChat.objects.get(user=spanish_user).chat_id == 555
    assert telegram_api.sent()[1:] == [
        (555, CONNECTED_ES),
        (
            666,
            "This link has expired or was already used. "
            "Open My account on Vigencia and connect Telegram again.",
        ),
    ]

    # and a link opened after its hour is refused too
    late = _token(telegram_link_start(user=user))
    with clock.frozen(clock.now() + timedelta(hours=1, seconds=1)):
        assert _start(anon_api, f"/start {late}", chat_id=777).json() == {"handled": "link_refused"}
    assert TelegramChat.objects.get(user=user).chat_id is None


def test_the_webhook_refuses_a_wrong_secret_and_a_bad_body_and_is_absent_without_a_bot(
    telegram_api, anon_api, spanish_user, settings
):
    token = _token(telegram_link_start(user=spanish_user))
    update = {"message": {"chat": {"id": 555, "type": "private"}, "text": f"/start {token}"}}

    wrong = anon_api.post_json(WEBHOOK, update, HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="guess")
    missing = anon_api.post_json(WEBHOOK, update)
    broken = anon_api.post(WEBHOOK, b"{not json", content_type="application/json", **SECRET)
    odd = [
        anon_api.post_json(WEBHOOK, body, **SECRET).json()
        for body in ([], {"message": "x"}, {"edited_message": {}})
    ]
    huge = [
        anon_api.post_json(
            WEBHOOK, {"message": {**update["message"], "chat": {"id": chat_id, "type": "private"}}}, **SECRET
        ).json()
        for chat_id in (2**63, -(2**63) - 1, 10**30)
    ]
    group = anon_api.post_json(
        WEBHOOK, {"message": {**update["message"], "chat": {"id": -1, "type": "group"}}}, **SECRET
    )

    assert (wrong.status_code, wrong.json()["code"]) == (403, "invalid_secret")
    assert (missing.status_code, missing.json()["code"]) == (403, "invalid_secret")
    assert (broken.status_code, broken.json()["code"]) == (400, "malformed_body")
    assert odd == [{"handled": "ignored"}] * 3
    assert group.json() == {"handled": "ignored"}
    assert huge == [{"handled": "ignored"}] * 3
    assert TelegramChat.objects.get(user=spanish_user).chat_id is None
    assert telegram_api.calls == []

    settings.VIGENCIA_TELEGRAM_BOT_TOKEN = ""
    assert anon_api.post_json(WEBHOOK, update, **SECRET).status_code == 404


def test_stop_disconnects_and_anything_else_gets_help(telegram_api, anon_api, chinese_user):
    # given a connected chat
    _connect(anon_api, chinese_user)

    # when the person sends something else, then /stop
    help_ = _start(anon_api, "hola", language="zh-hans")
    stop = _start(anon_api, "/stop")

    # then they were told what the bot does, then that it stopped, in their account's language
    assert (help_.json(), stop.json()) == ({"handled": "help"}, {"handled": "stopped"})
    assert telegram_api.sent()[1:] == [
        (555, "本机器人发送您的 Vigencia 提醒和通知。请在 Vigencia 的“我的账户”中连接。"),
        (555, "已断开：Vigencia 不再向这里发送消息。您可以在“我的账户”中重新连接。"),
    ]
    # and notices go by email only
    [notification] = notification_send(
        user=chinese_user, kind="renewal_succeeded", context=RENEWAL_CONTEXT, dedupe_key="order:42"
    )
    assert notification.channel == "email"


@pytest.mark.parametrize(
    ("status", "description", "outcome"),
    [
        (403, "Forbidden: bot was blocked by the user", "failed"),
        (429, "Too Many Requests: retry after 5", "pending"),
    ],
)
def test_telegram_refusing_a_message_fails_it_for_good_or_tries_again_later(
    telegram_api, anon_api, spanish_user, run_tasks, status, description, outcome
):
    # given a connected chat, and Telegram refusing the next message
    _connect(anon_api, spanish_user)
    telegram_api.errors["sendMessage"] = (status, description)

    # when a notice goes by Telegram
    notification_send(
        user=spanish_user,
        kind="renewal_succeeded",
        context=RENEWAL_CONTEXT,
        dedupe_key="order:42",
        channels=["telegram"],
    )
    run_tasks()

    # then a blocked bot fails it at once, too many messages keeps it for a later try; the error
    # says why, without the bot's token
    notification = Notification.objects.get(channel="telegram")
    assert (notification.status, notification.attempts) == (outcome, 1)
    assert notification.last_error == f"Telegram answered HTTP {status}: {description}"


def test_a_person_without_a_connected_chat_gets_nothing_by_telegram(telegram_api, spanish_user, run_tasks):
    notification_send(
        user=spanish_user,
        kind="renewal_succeeded",
        context=RENEWAL_CONTEXT,
        dedupe_key="k",
        channels=["telegram"],
    )
    run_tasks()

    notification = Notification.objects.get()
    assert (notification.status, notification.last_error) == ("failed", "the user has not connected Telegram")
    assert telegram_api.calls == []


D0 = date(2026, 3, 2)  # the last recharge; Claro restricts on D0 + 61
RESTRICTED_ON = D0 + timedelta(days=61)


def test_reminders_by_telegram_need_a_connected_chat_and_go_by_email_once_it_is_disconnected(
    telegram_api, anon_api, api, user, claro
):
    # given a line whose owner has no Telegram chat connected
    line = Line.objects.create(owner=user, msisdn="+51912345678", carrier=claro, last_recharge_at=D0)

    # when they ask for reminders by Telegram, then it is refused and nothing is written
    refused = api.put_json(f"/api/v1/lines/{line.pk}/reminders", {"lead_days": [7], "channels": ["telegram"]})
    assert (refused.status_code, refused.json()["code"]) == (422, "telegram_missing")
    assert not hasattr(Line.objects.get(pk=line.pk), "reminder_setting")

    # when they connect a chat and choose Telegram, the reminder goes there
    _connect(anon_api, user)
    ok = api.put_json(f"/api/v1/lines/{line.pk}/reminders", {"lead_days": [7, 1], "channels": ["telegram"]})
    assert ok.status_code == 200
    reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7)))

    # and once they disconnected it, the next one goes by email instead
    _start(anon_api, "/stop")
    reminders_send(at=lima(RESTRICTED_ON - timedelta(days=1)))
    assert list(ReminderSent.objects.order_by("id").values_list("lead_days", "channel")) == [
        (7, "telegram"),
        (1, "email"),
    ]


def test_the_account_page_connects_and_disconnects_telegram(telegram_api, anon_api, client, user, settings):
    client.force_login(user)

    # given the account page offers Telegram
    page = client.get("/accounts/settings/").content.decode()
    assert "Connect Telegram" in page

    # when the person asks to connect, the page gives the link to open in Telegram
    response = client.post("/messages/telegram/", {"action": "connect"})
    assert (response.status_code, response.url) == (302, "/accounts/settings/#telegram")
    page = client.get("/accounts/settings/").content.decode()
    link = client.session["telegram_link"]
    assert f'href="{link}"' in page

    # and once the bot got /start from their chat, the page says it is connected
    assert _start(anon_api, f"/start {_token(link)}").json() == {"handled": "linked"}
    page = client.get("/accounts/settings/").content.decode()
    assert "Disconnect Telegram" in page
    assert link not in page

    # when they disconnect it, nothing more goes there
    client.post("/messages/telegram/", {"action": "disconnect"})
    assert TelegramChat.objects.get(user=user).chat_id is None
    assert "Connect Telegram" in client.get("/accounts/settings/").content.decode()

    # and a site without a bot does not offer it
    settings.VIGENCIA_TELEGRAM_BOT_TOKEN = ""
    assert "Telegram" not in client.get("/accounts/settings/").content.decode()
    client.post("/messages/telegram/", {"action": "connect"})
    assert "Telegram is not available on this site." in client.get("/accounts/settings/").content.decode()


def test_the_command_points_telegram_at_the_webhook(telegram_api, settings, capsys):
    call_command(
        "telegram", "webhook", "--url", "https://vigencia.example/api/v1/notifications/telegram/webhook"
    )
    call_command("telegram", "webhook", "--delete")

    assert telegram_api.calls == [
        (
            "setWebhook",
            {
                "url": "https://vigencia.example/api/v1/notifications/telegram/webhook",
                "secret_token": "test-webhook-secret",
                "allowed_updates": ["message"],
            },
        ),
        ("deleteWebhook", {}),
    ]
    with pytest.raises(CommandError, match="only to an https:// URL"):
        call_command("telegram", "webhook", "--url", "http://vigencia.example/hook")
    settings.VIGENCIA_TELEGRAM_BOT_TOKEN = ""
    with pytest.raises(CommandError, match="Set VIGENCIA_TELEGRAM_BOT_TOKEN"):
        call_command("telegram", "webhook", "--url", "https://vigencia.example/hook")


ODD = [None, -1, 0, 10**30, 1.5, True, "", "\x00", "x" * 10_000, [], {}, "../..", "zh-hans\x00"]


def test_no_update_is_a_server_error_whatever_its_fields_hold(telegram_api, anon_api):
    good = {"chat": {"id": 5, "type": "private"}, "text": "/start abc", "from": {"language_code": "es"}}
    bodies: list[object] = [{"message": odd} for odd in ODD]
    for odd in ODD:
        bodies += [
            {"message": {**good, "text": odd}},
            {"message": {**good, "text": f"/start {odd}"}},
            {"message": {**good, "chat": odd}},
            {"message": {**good, "chat": {"id": odd, "type": "private"}}},
            {"message": {**good, "from": odd}},
            {"message": {**good, "from": {"language_code": odd}}},
        ]

    answers = [anon_api.post_json(WEBHOOK, body, **SECRET).status_code for body in bodies]
    answers += [  # JSON that is no object at all
        anon_api.post(WEBHOOK, json.dumps(odd), content_type="application/json", **SECRET).status_code
        for odd in ODD
    ]
    undecodable = anon_api.post(WEBHOOK, b"\xff\xfe", content_type="application/json", **SECRET)

    assert [status for status in answers if status != 200] == []
    assert undecodable.status_code == 400
    assert not TelegramChat.objects.exists()


def test_polling_handles_each_waiting_update_once_and_confirms_them(telegram_api, spanish_user, capsys):
    # given a link opened in Telegram, on a site Telegram cannot call (so the bot's updates wait)
    token = _token(telegram_link_start(user=spanish_user))
    message = {"chat": {"id": 555, "type": "private"}, "from": {"language_code": "es"}}
    telegram_api.updates = [
        {"update_id": 41, "message": {**message, "text": f"/start {token}"}},
        {"update_id": 42, "message": {**message, "text": "hola"}},
    ]

    # when the updates are polled, twice
    call_command("telegram", "poll", "--once")
    call_command("telegram", "poll", "--once")

    # then the chat is connected, each update was handled once, and Telegram was told they were
    assert TelegramChat.objects.get(user=spanish_user).chat_id == 555
    assert capsys.readouterr().out == "update 41: linked\nupdate 42: help\n"
    assert [payload.get("offset") for method, payload in telegram_api.calls if method == "getUpdates"] == [
        None,
        43,
        None,
    ]
    assert telegram_api.updates == []
    assert len(telegram_api.sent()) == 2


def test_polling_while_a_webhook_is_set_says_so(telegram_api):
    telegram_api.errors["getUpdates"] = (409, "Conflict: can't use getUpdates method while webhook is active")

    with pytest.raises(CommandError, match="Telegram answered HTTP 409: Conflict: can't use getUpdates"):
        call_command("telegram", "poll", "--once")


def test_the_line_page_offers_telegram_and_says_when_its_chat_is_disconnected(
    telegram_api, anon_api, client, user, claro
):
    # given a line whose owner has not connected Telegram on a site with a bot
    line = Line.objects.create(owner=user, msisdn="+51912345678", carrier=claro, last_recharge_at=D0)
    client.force_login(user)
    client.cookies["django_language"] = "es"
    offer = "Los recordatorios también pueden llegar por Telegram: conéctalo en"
    disconnected = "Tu chat de Telegram está desconectado, así que los recordatorios elegidos para Telegram"

    # then the line page offers it
    page = client.get(f"/lines/{line.pk}/").content.decode()
    assert offer in page
    assert 'value="telegram"' not in page

    # when they connect it and choose it for reminders, then no note is needed
    _connect(anon_api, user)
    reminder_settings_set(line=line, lead_days=[7], channels=["telegram"])
    page = client.get(f"/lines/{line.pk}/").content.decode()
    assert (offer in page, disconnected in page) == (False, False)
    assert 'value="telegram"' in page

    # when the chat is disconnected, then the page says where those reminders go now
    _start(anon_api, "/stop")
    page = client.get(f"/lines/{line.pk}/").content.decode()
    assert disconnected in page


def test_the_account_page_stops_showing_a_link_once_it_expired(telegram_api, client, user):
    # given a link asked for on the account page
    client.force_login(user)
    client.post("/messages/telegram/", {"action": "connect"})
    link = client.session["telegram_link"]
    assert f'href="{link}"' in client.get("/accounts/settings/").content.decode()

    # when the page is read after the link's hour
    with clock.frozen(clock.now() + timedelta(hours=1, seconds=1)):
        page = client.get("/accounts/settings/").content.decode()

    # then it offers a new connection instead of the dead link
    assert link not in page
    assert "Connect Telegram" in page
