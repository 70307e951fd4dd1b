"""Parameters as pytrees: flatten them to one vector and name each component."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from gdlab._lazy import lazy
from gdlab._types import Params

if TYPE_CHECKING:
    import jax
else:  # a Newton fit's path (one array of iterates) is named without JAX
    jax = lazy("jax")

__all__ = ["component_names", "components", "ravel_pytree"]


def ravel_pytree(tree: Params) -> tuple[Any, Any]:
    """JAX's ``ravel_pytree``: the tree as one flat vector, and the function that undoes it."""
    from jax.flatten_util import ravel_pytree as ravel

    return ravel(tree)


def _key_name(key: object) -> str:
    from jax.tree_util import DictKey, GetAttrKey, SequenceKey

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
    # one array or number is one leaf at the root: named without JAX
    one = isinstance(tree, np.ndarray | float | int)
    for path, leaf in [((), tree)] if one else jax.tree_util.tree_flatten_with_path(tree)[0]:
        base = root
        for key in path:
            part = _key_name(key)
            base = part if isinstance(key, jax.tree_util.DictKey) else f"{base}{part}"
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
