"""Email through Django's mail API (EMAIL_URL: SMTP in production, files under var/mail by default)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.models import Notification
from vigencia.notifications.rendering import Rendered


def deliver(notification: Notification, rendered: Rendered) -> None:
    address = notification.user.email
    if not address:
        raise DeliveryError("the user has no email address", permanent=True)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"X-Vigencia-Event-Id": str(notification.event_id)},
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send(fail_silently=False)
