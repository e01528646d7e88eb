"""Account pages: sign up, log in and out, password reset, the account settings (profile and
password), and the lockout page for django-axes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vigencia.accounts.forms import EmailLoginForm, LanguagePasswordResetForm, ProfileForm, SignupForm
from vigencia.accounts.models import User
from vigencia.accounts.services import (
    calendar_key_remove,
    calendar_key_renew,
    calendar_url,
    user_profile_update,
    user_register,
)
from vigencia.core import clock
from vigencia.core.errors import DomainError
from vigencia.core.forms import form_add_domain_error
from vigencia.core.phones import phone_display
from vigencia.core.schemas import ErrorOut
from vigencia.notifications.channels.telegram import telegram_configured
from vigencia.notifications.selectors import telegram_chat_get
from vigencia.notifications.telegram import TELEGRAM_LINK_SESSION_KEY


def _with_language(response: HttpResponseBase, language: str) -> HttpResponseBase:
    """Switch the UI to the user's language from the next page on, as the language switch does."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def signup(request: HttpRequest) -> HttpResponseBase:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None, initial={"language": translation.get_language()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_register(
                email=data["email"], password=data["password1"], name=data["name"], language=data["language"]
            )
        except DomainError as error:
            if error.code == "weak_password":
                for message in error.details["password"]:
                    form.add_error("password1", message)
            elif error.code == "email_taken":
                form.add_error("email", str(error.message))
                form.add_error("email", _("Log in instead, or reset your password."))
            else:
                form_add_domain_error(form, error)
        else:
            # login() rotates the session key, so a session fixed before sign-up is worthless.
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            with translation.override(user.language):
                messages.success(request, _("Welcome to Vigencia. Add your first line."))
            return _with_language(redirect(settings.LOGIN_REDIRECT_URL), user.language)
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Email + password; Django rotates the session on login, and the UI switches to the user's
    preferred language."""

    form_class = EmailLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        _with_language(response, form.get_user().language)
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET), so a link or an image cannot log anyone out."""


@login_required
def account_settings(request: HttpRequest) -> HttpResponseBase:
    """The person's name, SMS number, language and timezone; a link to change the password."""
    user: User = request.user  # type: ignore[assignment]
    current = {
        "name": user.name,
        "phone": phone_display(user.phone) if user.phone else "",
        "language": user.language,
        "timezone": user.timezone,
    }
    form = ProfileForm(request.POST or None, initial=current, current_timezone=user.timezone)
    if request.method == "POST" and form.is_valid():
        try:
            user_profile_update(user=user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            with translation.override(user.language):
                messages.success(request, _("Your account is saved."))
            return _with_language(redirect("accounts:settings"), user.language)
    chat = telegram_chat_get(user=user)
    connected_at = chat.linked_at if chat is not None and chat.chat_id is not None else None
    # The link asked for is shown until it is used or expires (then "Connect" gives a new one).
    link_open = chat is not None and chat.link_expires_at is not None and chat.link_expires_at > clock.now()
    telegram = {
        "available": telegram_configured(),
        "connected_at": connected_at,
        "link": request.session.get(TELEGRAM_LINK_SESSION_KEY) if link_open and not connected_at else None,
    }
    return render(request, "accounts/settings.html", {"form": form, "telegram": telegram, **_calendar(user)})


def _calendar(user: User) -> dict[str, str]:
    url = calendar_url(user)
    return {"calendar_url": url, "calendar_webcal": "webcal" + url[url.index(":") :] if url else ""}


@login_required
@require_POST
def account_calendar(request: HttpRequest) -> HttpResponseBase:
    """Turn the deadline calendar on, give it a new address (the old one stops working) or turn it off."""
    user: User = request.user  # type: ignore[assignment]
    if request.POST.get("action") == "off":
        calendar_key_remove(user=user)
        messages.success(request, _("The calendar is off: its address no longer works."))
    else:
        renewed = bool(user.calendar_key)
        calendar_key_renew(user=user)
        if renewed:
            messages.success(request, _("The calendar has a new address; the old one no longer works."))
        else:
            messages.success(request, _("The calendar is on. Add it to your calendar app."))
    return redirect(reverse("accounts:settings") + "#calendar")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (the old password, then the new one twice, checked by the password
    validators); the session stays logged in, other sessions of the account end."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:settings")

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, _("Your password is changed."))
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = LanguagePasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """What django-axes answers while a login is locked out: 429, JSON for the API."""
    if request.path.startswith("/api/"):
        message = _("Too many failed logins. Try again in 15 minutes.")
        return JsonResponse(ErrorOut(code="rate_limited", message=message).model_dump(), status=429)
    return render(request, "accounts/locked.html", status=429)
