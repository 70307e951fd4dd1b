"""Names for what gdlab's functions take, so signatures say what a thing is."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:  # a name for signatures only: reading it loads no optax
    import optax

# Parameters: a number, an array, or a tuple, list or dict of them (a JAX pytree).
Params: TypeAlias = Any
# A loss: a function of the parameters returning one number, written with jax.numpy.
Loss: TypeAlias = Callable[[Params], Any]
# A loss of the parameters and a batch of data rows, for SGD.
BatchLoss: TypeAlias = Callable[[Params, Any], Any]
# A method: a name from gdlab.METHODS, an optax transformation, or a factory lr -> transformation.
MethodLike: TypeAlias = "str | optax.GradientTransformation | Callable[[Any], optax.GradientTransformation]"
# A floating dtype: None (float64), "float32", "float64", or a NumPy dtype.
DTypeLike: TypeAlias = Any
