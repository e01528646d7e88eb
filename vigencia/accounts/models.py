from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from vigencia.core import clock
from vigencia.core.clock import validate_timezone
from vigencia.core.errors import InvalidInput
from vigencia.core.phones import mobile_normalize


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Español"
    ZH_HANS = "zh-hans", "简体中文"

    @classmethod
    def canonical(cls, code: str) -> str | None:
        """The supported language a code names, in any letter case and with a region or script
        (`ZH-Hans`, `zh-CN`, `ES`, `es-PE`); None for one not supported (`zh-TW` is not Simplified)."""
        try:
            found = translation.get_supported_language_variant((code or "").strip().lower(), strict=True)
        except LookupError:
            return None
        return found if found in cls.values else None


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: Any) -> User:
        if not email:
            raise ValueError("an email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=(username or "").strip())


CALENDAR_KEY_MAX_LENGTH = 43


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email"), max_length=254, unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164, optional"))
    language = models.CharField(
        _("preferred language"), max_length=7, choices=Language.choices, default=Language.EN
    )
    timezone = models.CharField(
        _("timezone"), max_length=64, default="America/Lima", validators=[validate_timezone]
    )
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=clock.now)
    # When the last password-reset email went out: one at most per PASSWORD_RESET_EVERY, so nobody
    # can flood an inbox through the reset form.
    password_reset_sent_at = models.DateTimeField(
        _("password reset sent"), null=True, blank=True, editable=False
    )

    # The secret in the address of the person's deadline calendar (calendar apps fetch it without a
    # login, as they do Google's secret address); blank while the calendar is off.
    calendar_key = models.CharField(
        _("calendar key"), max_length=CALENDAR_KEY_MAX_LENGTH, blank=True, editable=False
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("Another account already uses this email."),
            ),
            models.UniqueConstraint(
                fields=["calendar_key"],
                condition=~Q(calendar_key=""),
                name="accounts_user_calendar_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        # The back office's form: the SMS number as the profile page keeps it (E.164, a mobile).
        if self.phone:
            try:
                self.phone = mobile_normalize(self.phone, region=settings.VIGENCIA_PHONE_REGION)
            except InvalidInput as error:
                raise ValidationError({"phone": error.message})

    def has_role(self, role: str) -> bool:
        return self.groups.filter(name=role).exists()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, default="api")
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    created_at = models.DateTimeField(default=clock.now, verbose_name=_("created at"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
