"""The back office reads in Spanish and Chinese: every model and field of the project's apps has a
label given with gettext, so a new field cannot show its raw name ("data below mb") to an operator.

A label is looked for, not compared with the field's name in Spanish: "plan" is the Spanish for
"plan", and a translated label may read like its name."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.utils import translation
from django.utils.functional import Promise


def _unlabelled(model) -> list[str]:
    """What of a model has no translatable label: "MODEL"/"MODEL PLURAL", then its fields' names."""
    missing = [
        name
        for name, option in (("MODEL", "verbose_name"), ("MODEL PLURAL", "verbose_name_plural"))
        if not isinstance(model._meta.original_attrs.get(option), Promise)
    ]
    for field in model._meta.get_fields():
        if field.auto_created or not hasattr(field, "verbose_name"):
            continue
        if not isinstance(field.verbose_name, Promise):
            missing.append(field.name)
    return missing


def test_every_model_and_field_has_a_translatable_label() -> None:
    # Given the project's models (those the admin lists or shows inline, and the rest)
    models = [model for model in apps.get_models() if model.__module__.startswith("vigencia.")]

    # When each is looked at for a model or field without a gettext label
    missing = {model.__name__: bad for model in models if (bad := _unlabelled(model))}

    # Then there is none
    assert missing == {}


def test_the_admin_shows_an_operator_the_labels_in_spanish() -> None:
    # Given an alert rule, whose thresholds had no labels
    alert_rule = apps.get_model("usage", "AlertRule")

    # When its labels are read in Spanish
    with translation.override("es"):
        labels = [str(alert_rule._meta.get_field(name).verbose_name) for name in ("data_below_mb", "line")]
        model = str(alert_rule._meta.verbose_name_plural)

    # Then they are the Spanish words, and the admin lists the model
    assert labels == ["alerta de datos por debajo de (MB)", "línea"]
    assert model == "reglas de alerta"
    assert alert_rule in admin.site._registry
