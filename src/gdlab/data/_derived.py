"""A source whose blocks carry columns made from their own (a formula's design): the made
columns are computed where each block lives (in this process, as Parquet is read, or on a
worker), so nothing as large as the design is ever gathered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, final

from gdlab._checks import InputError
from gdlab.data._source import Batches, Block, Source

__all__ = ["DerivedSource", "derived"]

# Makes a block's columns: (columns, real rows, first row) -> columns with the made ones added.
Make = Callable[[dict, int, int], dict]


@final
@dataclass(frozen=True, eq=False)
class DerivedSource:
    """``source``'s rows, each block with ``make``'s columns added."""

    source: Source
    make: Make

    @property
    def n(self) -> int:
        return self.source.n

    @property
    def names(self) -> tuple[str, ...]:
        return self.source.names

    @property
    def dropped(self) -> int:
        return self.source.dropped

    @property
    def where(self) -> str:
        return self.source.where

    @property
    def path(self) -> Any:
        return getattr(self.source, "path", None)

    def reduce(self, fn: Callable[..., Any], merge: Callable[[Any, Any], Any], *args: Any) -> Any:
        return self.source.reduce(_on_made, merge, fn, self.make, *args)

    def send(self, f: Callable[..., Any]) -> tuple[Any, ...]:
        return self.source.send(f)

    def batches(self, size: int, *, epochs: int, seed: int, shuffle: bool, buffer: int | None) -> Batches:
        raise InputError("minibatches of a formula's design are not cut from streamed data or a cluster")

    def table(self) -> None:
        return None


def _on_made(block: Block, fn: Callable[..., Any], make: Make, *args: Any) -> Any:
    """``fn`` on a block with the made columns added (where the block lives)."""
    return fn(block._replace(columns=make(block.columns, block.rows, block.start)), *args)


def derived(source: Source, make: Make) -> DerivedSource:
    """``source`` with ``make``'s columns added to each block."""
    return DerivedSource(source, make)
