from django.db import models
from django.utils.translation import gettext_lazy as _

from vigencia.core import clock


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True
