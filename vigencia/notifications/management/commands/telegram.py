"""`vigencia telegram webhook --url URL` (or `--delete`): tell Telegram where to send the bot's updates."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.channels.telegram import bot_call, telegram_configured


class Command(BaseCommand):
    help = "Set up the Telegram bot's webhook (VIGENCIA_TELEGRAM_BOT_TOKEN and _USERNAME must be set)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        webhook = actions.add_parser("webhook", help="Where Telegram sends the bot's updates.")
        where = webhook.add_mutually_exclusive_group(required=True)
        where.add_argument("--url", help="https://<this site>/api/v1/notifications/telegram/webhook")
        where.add_argument("--delete", action="store_true", help="Stop sending updates here.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not telegram_configured():
            raise CommandError("Set VIGENCIA_TELEGRAM_BOT_TOKEN and VIGENCIA_TELEGRAM_BOT_USERNAME first.")
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
