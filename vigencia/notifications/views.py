"""The person's messages: what Vigencia told them, by every channel, newest first; and their
Telegram chat, connected or disconnected from their account page."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vigencia.accounts.models import User
from vigencia.core.errors import DomainError
from vigencia.notifications.selectors import message_keys, messages_of
from vigencia.notifications.telegram import TELEGRAM_LINK_SESSION_KEY, telegram_link_start, telegram_unlink

PER_PAGE = 20


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page = Paginator(message_keys(user=user), PER_PAGE).get_page(request.GET.get("page"))
    messages = messages_of(
        user=user,
        keys=[str(row["dedupe_key"]) for row in page.object_list],
        language=translation.get_language() or user.language,
    )
    return render(request, "notifications/inbox.html", {"page": page, "inbox": messages})


@login_required
@require_POST
def telegram(request: HttpRequest) -> HttpResponse:
    """Connect: a new link to the bot, shown on the account page until it is used (opening it, the
    Telegram app opens the chat, and "Start" sends it back; the site's Content-Security-Policy lets
    a form lead only to the site, so the link is followed, not redirected to). Disconnect: no more
    messages there."""
    user: User = request.user  # type: ignore[assignment]
    back = reverse("accounts:settings") + "#telegram"
    if request.POST.get("action") == "disconnect":
        telegram_unlink(user=user)
        request.session.pop(TELEGRAM_LINK_SESSION_KEY, None)
        flash.success(request, _("Telegram is disconnected: nothing more is sent there."))
        return redirect(back)
    try:
        request.session[TELEGRAM_LINK_SESSION_KEY] = telegram_link_start(user=user)
    except DomainError as error:
        flash.error(request, str(error.message))
    return redirect(back)
