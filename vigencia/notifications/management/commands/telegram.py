"""`vigencia telegram webhook --url URL` (or `--delete`): tell Telegram where to send the bot's updates.
`vigencia telegram poll [--once]`: fetch them instead, for a site Telegram cannot reach (no public
https address, as on a laptop under `make run`)."""

import time
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vigencia.core.db import outlast_database_outages
from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.channels.telegram import bot_call, telegram_configured
from vigencia.notifications.telegram import telegram_update_receive


class Command(BaseCommand):
    help = "Set up the Telegram bot's webhook (VIGENCIA_TELEGRAM_BOT_TOKEN and _USERNAME must be set)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        webhook = actions.add_parser("webhook", help="Where Telegram sends the bot's updates.")
        where = webhook.add_mutually_exclusive_group(required=True)
        where.add_argument("--url", help="https://<this site>/api/v1/notifications/telegram/webhook")
        where.add_argument("--delete", action="store_true", help="Stop sending updates here.")
        poll = actions.add_parser("poll", help="Fetch the bot's updates from Telegram and handle them.")
        poll.add_argument("--once", action="store_true", help="Handle what is waiting, then exit.")
        poll.add_argument("--wait", type=int, default=30, help="Seconds each request waits for an update.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not telegram_configured():
            raise CommandError("Set VIGENCIA_TELEGRAM_BOT_TOKEN and VIGENCIA_TELEGRAM_BOT_USERNAME first.")
        if options["action"] == "poll":
            self.poll(once=options["once"], wait=options["wait"])
            return
        url = options["url"]
        if url is not None and not url.startswith("https://"):
            raise CommandError("Telegram sends updates only to an https:// URL.")
        try:
            if options["delete"]:
                bot_call("deleteWebhook", {})
                self.stdout.write("Telegram no longer sends the bot's updates here.")
                return
            bot_call(
                "setWebhook",
                {
                    "url": url,
                    "secret_token": settings.VIGENCIA_TELEGRAM_WEBHOOK_SECRET,
                    "allowed_updates": ["message"],
                },
            )
        except DeliveryError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Telegram sends the bot's updates to {url}")

    def poll(self, *, once: bool, wait: int) -> None:
        """Long-poll getUpdates: each update is handled, then confirmed by asking from the next one on
        (an update handled twice, after a crash between the two, changes nothing more)."""
        offset: int | None = None
        while True:
            try:
                updates = bot_call(
                    "getUpdates",
                    {"offset": offset, "timeout": 0 if once else wait, "allowed_updates": ["message"]},
                    timeout=wait + 10,
                )
            except DeliveryError as error:
                # e.g. 409 while a webhook is set (`vigencia telegram webhook --delete` ends it)
                if once:
                    raise CommandError(str(error)) from error
                self.stderr.write(f"{error}; trying again in 5 s.")
                time.sleep(5)
                continue
            for update in updates if isinstance(updates, list) else []:
                if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                    continue
                handled = outlast_database_outages(
                    partial(telegram_update_receive, update),
                    report=self.stderr.write,
                    attempts=5 if once else None,
                )
                offset = update["update_id"] + 1
                self.stdout.write(f"update {update['update_id']}: {handled}")
            if once:
                if offset is not None:  # confirm what was handled
                    bot_call("getUpdates", {"offset": offset, "timeout": 0, "limit": 1})
                return
