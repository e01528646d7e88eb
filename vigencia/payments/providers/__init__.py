"""Payment service providers by name. Each implements `PaymentProvider` (base.py)."""

from __future__ import annotations

from django.utils.module_loading import import_string

from vigencia.payments.providers.base import PaymentProvider, UnknownProvider

# name -> dotted path of the provider class; a real PSP (Culqi, Niubiz, ...) is one more line.
PROVIDERS = {"sandbox": "vigencia.payments.providers.sandbox.SandboxProvider"}


def provider_get(name: str) -> PaymentProvider:
    """The provider called `name`; UnknownProvider (404) if there is none."""
    path = PROVIDERS.get(name)
    if path is None:
        raise UnknownProvider(details={"provider": name[:40]})
    provider: PaymentProvider = import_string(path)()
    return provider
