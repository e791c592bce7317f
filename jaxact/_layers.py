"""One table of learnable activations shared by :mod:`jaxact.linen` and :mod:`jaxact.nnx`.

Each :class:`LayerSpec` names the pure function, its learnable parameters (name, default
initialiser, trailing shape) and how they are passed. The Flax modules only create the
parameters from this table and call :func:`apply`, so linen, nnx and the pure function
compute exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _pau
from jaxact._registry import entry, get

Initializer = Callable[[Array, tuple[int, ...], jnp.dtype], Array]


def constant(value: ArrayLike) -> Initializer:
    """Initialiser that broadcasts ``value`` to the requested shape (the key is unused)."""

    def init(key: Array, shape: tuple[int, ...], dtype: jnp.dtype = jnp.float32) -> Array:
        del key  # deterministic: the documented defaults of the pure function
        return jnp.broadcast_to(jnp.asarray(value, dtype), shape)

    return init


@dataclass(frozen=True)
class ParamSpec:
    """A learnable parameter: its keyword in the pure function, initialiser, trailing shape."""

    name: str
    init: Initializer
    trailing: tuple[int, ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """A learnable activation: the pure function and its parameters."""

    fn: Callable[..., Array]
    params: tuple[ParamSpec, ...]


def pau_init(name: str) -> tuple[Initializer, Initializer]:
    """Numerator and denominator initialisers approximating ``name`` (see ``jaxact._pau``)."""
    if name not in _pau.COEFFICIENTS:
        raise ValueError(f"no PAU fit for {name!r}; choose one of {sorted(_pau.COEFFICIENTS)}")
    num, den, _ = _pau.COEFFICIENTS[name]
    return constant(num), constant(den)


_APL_HINGES = 2

SPECS: dict[str, LayerSpec] = {
    "prelu": LayerSpec(get("prelu"), (ParamSpec("alpha", constant(0.25)),)),
    "swish": LayerSpec(get("silu"), (ParamSpec("beta", constant(1.0)),)),
    "pelu": LayerSpec(get("pelu"), (ParamSpec("a", constant(1.0)), ParamSpec("b", constant(1.0)))),
    "srelu": LayerSpec(
        get("srelu"),
        (
            ParamSpec("t_left", constant(0.0)),
            ParamSpec("a_left", constant(0.2)),
            ParamSpec("t_right", constant(1.0)),
            ParamSpec("a_right", constant(1.0)),
        ),
    ),
    # Agostinelli et al. initialise the hinges at random; fixed spread hinges keep the
    # default construction key-independent while still breaking the symmetry between them.
    "apl": LayerSpec(
        get("apl"),
        (
            ParamSpec("a", constant(jnp.array([0.2, -0.2])), (_APL_HINGES,)),
            ParamSpec("b", constant(jnp.array([0.0, 1.0])), (_APL_HINGES,)),
        ),
    ),
    "snake": LayerSpec(get("snake"), (ParamSpec("a", constant(1.0)),)),
    # α = 0 is the identity, the paper's start.
    "soft_exponential": LayerSpec(get("soft_exponential"), (ParamSpec("alpha", constant(0.0)),)),
    "star_relu": LayerSpec(
        get("star_relu"), (ParamSpec("s", constant(0.8944)), ParamSpec("b", constant(-0.4472)))
    ),
    "acon_c": LayerSpec(
        get("acon_c"),
        (
            ParamSpec("p1", constant(1.0)),
            ParamSpec("p2", constant(0.0)),
            ParamSpec("beta", constant(1.0)),
        ),
    ),
}


def rational_spec(approx: str, degrees: tuple[int, int]) -> LayerSpec:
    """The rational (PAU) spec; ``degrees=(5, 4)`` starts from the fit to ``approx``."""
    m, n = degrees
    if (m, n) == (5, 4):
        num, den = pau_init(approx)
    elif m < 0 or n < 0:
        raise ValueError(f"degrees must be non-negative, got {degrees}")
    else:  # no fit for other degrees: start from the identity x / 1
        num, den = constant(jnp.eye(1, m + 1, 1)[0]), constant(jnp.zeros((n,)))
    return LayerSpec(
        get("rational"),
        (ParamSpec("numerator", num, (m + 1,)), ParamSpec("denominator", den, (n,))),
    )


def initializers(
    spec: LayerSpec, param_init: Mapping[str, Initializer] | None
) -> dict[str, Initializer]:
    """Each parameter's initialiser: from ``param_init`` where given, else the table's."""
    given = dict(param_init or {})
    unknown = set(given) - {p.name for p in spec.params}
    if unknown:
        raise ValueError(f"param_init names unknown parameters {sorted(unknown)}")
    return {p.name: given.get(p.name, p.init) for p in spec.params}


def param_shape(p: ParamSpec, num_parameters: int) -> tuple[int, ...]:
    """Scalar (``num_parameters == 1``) or one value per channel of the last axis."""
    if num_parameters < 1:
        raise ValueError(f"num_parameters must be >= 1, got {num_parameters}")
    return ((num_parameters,) if num_parameters > 1 else ()) + p.trailing


def check_input(x: Array, num_parameters: int, axis: int) -> None:
    """Clear error when per-channel parameters do not match the channel axis of ``x``."""
    if num_parameters == 1:
        return
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} out of range for input of shape {x.shape}")
    if x.shape[axis] != num_parameters:
        raise ValueError(
            f"input has {x.shape[axis]} channels on axis {axis}, layer has "
            f"num_parameters={num_parameters}"
        )


def apply(
    spec: LayerSpec,
    x: ArrayLike,
    params: Mapping[str, Array],
    *,
    num_parameters: int = 1,
    axis: int = -1,
    dtype: jnp.dtype | None = None,
) -> Array:
    """Call ``spec.fn`` on ``x`` with ``params``, all promoted to ``dtype`` (or their result type).

    Per-channel parameters (``num_parameters > 1``) are moved to broadcast along ``axis``.
    """
    x = jnp.asarray(x)
    check_input(x, num_parameters, axis)
    dtype = dtype or jnp.result_type(x, *params.values())
    x = x.astype(dtype)
    values = {k: v.astype(dtype) for k, v in params.items()}
    if spec.fn is get("prelu"):  # prelu takes its channel axis itself (torch layout)
        alpha = values["alpha"]
        return spec.fn(x, alpha, axis=axis) if num_parameters > 1 else spec.fn(x, alpha)
    if num_parameters > 1:  # (C, *trailing) -> (C, 1, ..., 1, *trailing) to line up with axis
        pad = (1,) * (x.ndim - 1 - axis % x.ndim)
        values = {k: v.reshape(v.shape[:1] + pad + v.shape[1:]) for k, v in values.items()}
    return spec.fn(x, **values)


def maxout(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike) -> Array:
    r"""Learnable maxout, :math:`y_j = \max_{i<k} (x W_{:, j, i} + c_{j, i})`.

    ``kernel`` has shape ``(in_features, out_features, k)``, ``bias`` ``(out_features, k)``;
    ``x`` is ``(..., in_features)``. Returns ``(..., out_features)``.
    """
    x = jnp.asarray(x)
    return jnp.max(jnp.einsum("...i,ijk->...jk", x, kernel) + bias, axis=-1)


def maxout_init(key: Array, in_features: int, features: int, k: int, dtype) -> Array:
    """LeCun-normal kernel for :func:`maxout`, variance 1 / in_features per piece."""
    return jax.nn.initializers.lecun_normal(in_axis=0, out_axis=(1, 2))(
        key, (in_features, features, k), dtype
    )


def activation_args(
    fn: str | Callable[..., Array], params: Mapping[str, object] | None, learnable: tuple[str, ...]
) -> tuple[dict[str, object], dict[str, Initializer]]:
    """Split ``params`` into fixed keywords and initialisers for the ``learnable`` names.

    A learnable parameter starts at its value in ``params``, else at the registry default.
    """
    fixed = dict(params or {})
    defaults = {p.name: p.default for p in entry(fn).params} if isinstance(fn, str) else {}
    inits = {}
    for name in learnable:
        value = fixed.pop(name, defaults.get(name))
        if value is None:
            raise ValueError(f"learnable parameter {name!r} has no value: pass it in params")
        inits[name] = constant(value)
    return fixed, inits
