"""What the benches share: a PostgreSQL database of their own, Django set up on it, percentiles."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def recreate(url: str, db: str) -> str:
    """Drop and create database `db` on the PostgreSQL server `url` points at; returns its URL."""
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    return urlunsplit(parts._replace(path=f"/{db}"))


def django_on_own_database(db: str, **defaults: str) -> str:
    """(Re)create `db` on the PostgreSQL server DATABASE_URL points at, set Django up on it (with the
    environment `defaults` where unset) and migrate it; returns its URL. Exits unless DATABASE_URL
    is PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL (the bench creates its own database there)")
    os.environ["DATABASE_URL"] = own = recreate(url, db)
    for name, value in {"DJANGO_SETTINGS_MODULE": "vigencia.config.settings", **defaults}.items():
        os.environ.setdefault(name, value)
    sys.path.insert(0, str(ROOT))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return own


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
