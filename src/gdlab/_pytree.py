"""Parameters as pytrees: flatten them to one vector and name each component."""

from __future__ import annotations

import itertools

import jax
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.tree_util import DictKey, GetAttrKey, SequenceKey

from gdlab._types import Params

__all__ = ["component_names", "components", "ravel_pytree"]


def _key_name(key: object) -> str:
    if isinstance(key, DictKey):
        return str(key.key)
    if isinstance(key, SequenceKey):
        return str(key.idx)
    if isinstance(key, GetAttrKey):
        return key.name
    return str(key)


def component_names(tree: Params, root: str = "b") -> list[str]:
    """Readable names of a pytree's scalar components, in ``ravel_pytree`` order.

    A scalar is ``b``, a vector ``b[0]``, ``b[1]``; a tuple ``(b0, b1)`` gives
    ``b0``, ``b1`` (the lecture's beta0 and beta1); a dict uses its keys.

    >>> component_names({"w": np.zeros(2), "c": 0.0})
    ['c', 'w[0]', 'w[1]']
    >>> component_names((1.0, 2.0))
    ['b0', 'b1']
    """
    names: list[str] = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        base = root
        for key in path:
            part = _key_name(key)
            base = part if isinstance(key, DictKey) else f"{base}{part}"
        shape = np.shape(leaf)
        if not shape:
            names.append(base)
            continue
        for index in itertools.product(*(range(n) for n in shape)):
            names.append(f"{base}[{','.join(map(str, index))}]")
    return names


def components(tree: Params) -> int:
    """How many numbers a pytree holds (a vector of 3 and a number: 4)."""
    return sum(int(np.size(x)) for x in jax.tree.leaves(tree))
