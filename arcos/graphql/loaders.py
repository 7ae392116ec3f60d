"""DataLoaders that register themselves on the request's context, the way Saleor's do.

A domain declares a `ContextLoader` subclass next to its types and calls
`EvidenceBySeq(info.context).load(seq)`; the first call in a context creates the loader and
keeps it in `context.loaders` under its class, later calls get the same one. Nothing lists
the loaders, so shared plumbing never imports a domain to build them, and clearing that
one dict (`ArcosContext.fresh_loaders`) drops every cache at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Generic, Protocol, Self, TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K")
V = TypeVar("V")


class HoldsLoaders(Protocol):
    """What a loader needs of its context: the dict the loaders of this request live in."""

    loaders: dict[type[Any], DataLoader[Any, Any]]


class ContextLoader(DataLoader[K, V], ABC, Generic[K, V]):
    """A DataLoader created lazily, once per context: `Loader(context)` is that context's
    instance. Subclasses implement `batch_load` (one query for all the keys asked for in
    one tick, answering in the keys' order)."""

    def __new__(cls, context: HoldsLoaders) -> Self:
        loader = context.loaders.get(cls)
        if loader is None:
            loader = super().__new__(cls)
            DataLoader.__init__(loader, loader.batch_load)
            context.loaders[cls] = loader
        return loader  # type: ignore[return-value]

    def __init__(self, context: HoldsLoaders) -> None:
        """Does nothing: `__new__` set the loader up the first time the context asked."""

    @abstractmethod
    async def batch_load(self, keys: list[K]) -> Sequence[V]:
        """The value for each key, in the order of `keys`."""
