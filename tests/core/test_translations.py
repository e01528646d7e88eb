"""The translation catalogs (es, zh-Hans) of the project's apps: every string translated, none left
fuzzy, and a string that two apps share reads the same in both.

Django merges the apps' catalogs into one per language, the first app in INSTALLED_APPS winning: a
msgid that two apps translate differently shows the first app's words in the other app too (a
ticket "Closed" read as a store's 休息中). Two apps that need different words for one English string
give it a context (pgettext)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.apps import apps

LANGUAGES = ["es", "zh_Hans"]


def _catalogs(language: str) -> list[tuple[str, Path]]:
    """(app label, its .po file) in INSTALLED_APPS order, for the project's apps."""
    return [
        (config.label, Path(config.path) / "locale" / language / "LC_MESSAGES" / "django.po")
        for config in apps.get_app_configs()
        if config.name.startswith("vigencia.") and (Path(config.path) / "locale").is_dir()
    ]


def _messages(path: Path):
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return catalog.num_plurals, [message for message in catalog if message.id]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_none_is_fuzzy(language: str) -> None:
    problems = []
    for app, path in _catalogs(language):
        plurals, messages = _messages(path)
        for message in messages:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            forms = plurals if isinstance(message.id, tuple) else 1
            if message.fuzzy or len(strings) != forms or not all(strings):
                problems.append(f"{app}: {message.id!r}{' (fuzzy)' if message.fuzzy else ''}")

    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_string_two_apps_share_reads_the_same_in_both(language: str) -> None:
    first: dict[tuple[str | None, object], tuple[str, object]] = {}
    clashes = []
    for app, path in _catalogs(language):
        for message in _messages(path)[1]:
            key = (message.context, message.id)
            if key in first and first[key][1] != message.string:
                winner, shown = first[key]
                clashes.append(
                    f"{message.id!r}: {app} says {message.string!r}, but {winner}'s {shown!r} is shown"
                )
            first.setdefault(key, (app, message.string))

    assert clashes == []
