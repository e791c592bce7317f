"""The Gumbel-softmax (concrete) relaxation of a categorical sample."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core
from jaxact._normalizers import Axis, mask_array, prepare, softmax_core
from jaxact._registry import Entry, Param, register
from jaxact._sparse import _to_last


def _gumbel_kernel(x: Array, noise: Array, tau: Array, where: Array | None, *,
                   axis: tuple[int, ...], hard: bool) -> Array:
    mask = mask_array(x, where)
    z = (x + noise) / tau
    soft = softmax_core(z, mask, axis)
    if not hard:
        return soft
    flat, back = _to_last(jnp.where(mask, z, -jnp.inf), axis)
    one_hot = back(jax.nn.one_hot(jnp.argmax(flat, -1), flat.shape[-1], dtype=soft.dtype))
    # straight-through: the forward value is exactly one-hot (soft - soft is 0), the
    # derivative is the soft sample's
    return one_hot + (soft - jax.lax.stop_gradient(soft))


def _check_key(key: Any) -> None:
    typed = isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    raw = (isinstance(key, (jax.Array, np.ndarray)) and key.dtype == np.uint32
           and key.shape == (2,))
    if not ((typed and key.shape == ()) or raw):
        shown = f"{key.dtype}{list(key.shape)}" if hasattr(key, "shape") else type(key).__name__
        raise TypeError(f"gumbel_softmax: argument 'key' must be one PRNG key "
                        f"(jax.random.key(seed)), got {shown}")


def gumbel_softmax(x: ArrayLike, key: ArrayLike, *, tau: ArrayLike = 1.0, hard: bool = False,
                   axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    r"""A differentiable sample from the categorical distribution ``softmax(x)``.

    .. math::
        y = \mathrm{softmax}\big((x + g) / \tau\big),\quad g_i \sim \mathrm{Gumbel}(0, 1),
        \qquad \frac{\partial y_i}{\partial x_j} = y_i\,(\delta_{ij} - y_j) / \tau

    ``argmax(x + g)`` is an exact sample of ``softmax(x)`` (the Gumbel-max trick, the
    same draw as ``jax.random.categorical(key, x)``); ``hard=True`` returns it as a
    one-hot vector whose derivative is the soft sample's (straight-through).

    Args:
      x: logits (unnormalised log-probabilities).
      key: a PRNG key (``jax.random.key``); the same key gives the same sample.
      tau: temperature > 0 (default 1); lower is closer to one-hot. Differentiable.
      hard: return the one-hot sample, with the straight-through derivative.
      axis: axis or axes of the categories (default -1).
      where: optional boolean mask; masked-out categories are never drawn.

    Returns:
      Same shape and dtype as ``x``; slices sum to 1.

    Raises:
      TypeError: if ``key`` is not one PRNG key.
      ValueError: if a concrete ``tau`` is not positive.

    Examples:
      >>> y = ja.gumbel_softmax(jnp.array([1.0, 2.0, 3.0]), jax.random.key(0), hard=True)
      >>> y.sum(), y.max()
      (Array(1., dtype=float32), Array(1., dtype=float32))

    References:
      Jang, Gu & Poole, Categorical Reparameterization with Gumbel-Softmax,
      arXiv:1611.01144; Maddison, Mnih & Teh, The Concrete Distribution, arXiv:1611.00712.
    """
    arr, axes, where = prepare("gumbel_softmax", x, axis, where)
    _check_key(key)
    _core.as_param(tau, "gumbel_softmax", "tau")
    _core.check(lambda t: t > 0, "gumbel_softmax", "tau", "positive", tau)
    if not isinstance(hard, bool):
        raise TypeError(f"gumbel_softmax: hard must be a bool, got {type(hard).__name__}")
    noise = jax.random.gumbel(key, arr.shape, _core.compute_dtype(arr.dtype))
    return _core.apply(_gumbel_kernel, arr, noise, tau, where, axis=axes, hard=hard)


register(Entry("gumbel_softmax", gumbel_softmax, "normalizer",
               r"\mathrm{softmax}((x+g)/\tau),\ g\sim\mathrm{Gumbel}(0,1)",
               r"y_i(\delta_{ij}-y_j)/\tau",
               params=(Param("tau", 1.0, "temperature"), Param("hard", False, "one-hot sample"),
                       Param("axis", -1, "axis or axes"), Param("where", None, "mask")),
               range=(0.0, 1.0), monotonic=False,
               reference="Jang et al. 2016, arXiv:1611.01144; Maddison et al. 2016",
               source="torch", sample={"key": jax.random.key(0)}))
