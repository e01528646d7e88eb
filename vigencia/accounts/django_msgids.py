"""Django 5.2's own messages that its zh_Hans or es catalogs do not translate (yet), listed so that
`makemessages` puts them in this app's catalog: project catalogs are merged over Django's, so the
sign-up and password forms read in the person's language. Never imported; add a msgid here when
tests/accounts/test_django_msgids.py finds one untranslated."""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_MSGIDS = (
    # django.contrib.auth.password_validation.MinimumLengthValidator (5.2 counts with %d)
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
    # django.db.models.ForeignKey.validate (forms choosing a related object, such as the back office's)
    gettext_noop("%(model)s instance with %(field)s %(value)r is not a valid choice."),
)
