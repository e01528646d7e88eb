"""The person's messages: what Vigencia told them, by every channel, newest first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from vigencia.accounts.models import User
from vigencia.notifications.selectors import message_keys, messages_of

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
