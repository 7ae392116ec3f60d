"""Every Tortoise model opts out of Tortoise's source reading (`_no_comments`, arcos/db.py
says why): a model without it makes every start-up parse its module's source again."""

from __future__ import annotations

from tortoise.models import Model

from arcos.domains import REGISTRY
from arcos.store.outbox import OutboxEvent


def arcos_models() -> list[type[Model]]:
    found: list[type[Model]] = []
    pending = list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("arcos."):
            found.append(model)
    return found


def test_every_model_skips_tortoise_source_comments():
    assert REGISTRY.model_modules  # importing the registry registered the domains' models
    models = arcos_models()
    assert OutboxEvent in models and len(models) > 20
    missing = [m.__qualname__ for m in models if not m.__dict__.get("_no_comments")]
    assert missing == [], f"add `_no_comments = True` to {missing} (see arcos/db.py)"
