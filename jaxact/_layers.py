"""One table of learnable activations shared by :mod:`jaxact.linen` and :mod:`jaxact.nnx`.

Each :class:`LayerSpec` names the pure function, its learnable parameters (name, default
initialiser, trailing shape), the layer class that wraps it and that class's documentation.
The Flax modules only create the parameters from this table and call :func:`apply`, so
linen, nnx and the pure function compute exactly the same thing; their class docstrings
are written from the same entry by ``jaxact._layers_doc``, so each layer is described once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _pau
from jaxact._registry import entry, get

Initializer = Callable[[Array, tuple[int, ...], jnp.dtype], Array]
#: ``promote((x, *params), dtype=dtype)``: the input and the parameters in one dtype.
Promote = Callable[..., tuple[Array, ...]]
Axes = int | Sequence[int] | None


def constant(value: ArrayLike | Sequence[float]) -> Initializer:
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
    """A learnable activation: the pure function, its parameters and its documentation.

    ``summary`` and ``notes`` open the class docstring in both APIs; ``args`` documents the
    arguments only this layer has; the generated example calls the layer (constructed with
    ``example_kwargs``) on ``[-2, 0, 3]`` and prints ``example_output``.
    """

    cls_name: str
    fn: Callable[..., Array]
    params: tuple[ParamSpec, ...]
    summary: str
    example_output: str
    notes: str = ""
    args: tuple[tuple[str, str], ...] = ()
    example_kwargs: str = ""
    aliases: tuple[str, ...] = ()  # further names in ``LEARNABLE``


def pau_init(name: str) -> tuple[Initializer, Initializer]:
    """Numerator and denominator initialisers approximating ``name`` (see ``jaxact._pau``)."""
    if name not in _pau.COEFFICIENTS:
        raise ValueError(f"no PAU fit for {name!r}; choose one of {sorted(_pau.COEFFICIENTS)}")
    num, den, _ = _pau.COEFFICIENTS[name]
    return constant(num), constant(den)


def _scalars(**init: float) -> tuple[ParamSpec, ...]:
    """Scalar parameters that start at the given constants, in the given order."""
    return tuple(ParamSpec(name, constant(value)) for name, value in init.items())


def _rational_params(approx: str, degrees: Sequence[int]) -> tuple[ParamSpec, ...]:
    m, n = degrees
    if (m, n) == (5, 4):
        num, den = pau_init(approx)
    elif m < 0 or n < 0:
        raise ValueError(f"degrees must be non-negative, got {degrees}")
    else:  # no fit for other degrees: start from the identity x / 1
        num, den = constant(jnp.eye(1, m + 1, 1)[0]), constant(jnp.zeros((n,)))
    return ParamSpec("numerator", num, (m + 1,)), ParamSpec("denominator", den, (n,))


_APL_HINGES = 2
_PRELU_NOTES = """Three layouts: one slope (default); one per channel, ``num_parameters=C`` with
``axis`` (torch's ``nn.PReLU(C)`` is ``axis=1``); one per element of ``x.shape[1:]``,
shared along ``shared_axes`` (Keras' ``PReLU(shared_axes=(1, 2))`` on ``(N, H, W, C)``
learns ``alpha`` of shape ``(1, 1, C)``)."""

SPECS: dict[str, LayerSpec] = {
    "prelu": LayerSpec(
        "PReLU",
        get("prelu"),
        _scalars(alpha=0.25),
        "Parametric ReLU, :func:`jaxact.prelu`: learnable slope ``alpha`` (init 0.25) for x < 0.",
        "Array([-0.5,  0. ,  3. ], dtype=float32)",
        _PRELU_NOTES,
    ),
    "swish": LayerSpec(
        "Swish",
        get("silu"),
        _scalars(beta=1.0),
        "Swish, :func:`jaxact.silu` with learnable ``beta`` (init 1.0); alias ``SiLU``.",
        "Array([-0.23840584,  0.        ,  2.8577223 ], dtype=float32)",
    ),
    "pelu": LayerSpec(
        "PELU",
        get("pelu"),
        _scalars(a=1.0, b=1.0),
        "Parametric ELU, :func:`jaxact.pelu`: parameters ``a`` and ``b`` (init 1.0).",
        "Array([-0.86466473,  0.        ,  3.        ], dtype=float32)",
    ),
    "srelu": LayerSpec(
        "SReLU",
        get("srelu"),
        _scalars(t_left=0.0, a_left=0.2, t_right=1.0, a_right=1.0),
        "S-shaped ReLU, :func:`jaxact.srelu`: ``t_left, a_left, t_right, a_right``.",
        "Array([-0.4,  0. ,  3. ], dtype=float32)",
        "Starts at ``(0, 0.2, 1, 1)``: a leaky ReLU with slope 0.2.",
    ),
    "apl": LayerSpec(
        "APL",
        get("apl"),
        (
            ParamSpec("a", constant(jnp.array([0.2, -0.2])), (_APL_HINGES,)),
            ParamSpec("b", constant(jnp.array([0.0, 1.0])), (_APL_HINGES,)),
        ),
        "Adaptive piecewise linear, :func:`jaxact.apl`: two hinges, slopes ``a``, places ``b``.",
        "Array([-0.2, -0.2,  3. ], dtype=float32)",
        # Agostinelli et al. draw the hinges at random; fixed spread hinges keep the default
        # construction key-independent while still breaking the symmetry between them.
        "Starts at ``a = (0.2, -0.2)``, ``b = (0, 1)``; the hinge axis is the parameters' last.",
    ),
    "snake": LayerSpec(
        "Snake",
        get("snake"),
        _scalars(a=1.0),
        "Snake, :func:`jaxact.snake`: learnable frequency ``a`` (init 1.0).",
        "Array([-1.1731782,  0.       ,  3.0199149], dtype=float32)",
    ),
    "soft_exponential": LayerSpec(
        "SoftExponential",
        get("soft_exponential"),
        _scalars(alpha=0.0),
        "Soft exponential, :func:`jaxact.soft_exponential`: ``alpha`` (init 0, the identity).",
        "Array([-2.,  0.,  3.], dtype=float32)",
    ),
    "star_relu": LayerSpec(
        "StarReLU",
        get("star_relu"),
        _scalars(s=0.8944, b=-0.4472),
        "StarReLU, :func:`jaxact.star_relu`: scale ``s`` (0.8944) and bias ``b`` (-0.4472).",
        "Array([-0.4472, -0.4472,  7.6024], dtype=float32)",
    ),
    "acon_c": LayerSpec(
        "AconC",
        get("acon_c"),
        _scalars(p1=1.0, p2=0.0, beta=1.0),
        "ACON-C, :func:`jaxact.acon_c`: ``p1`` (1.0), ``p2`` (0.0) and ``beta`` (1.0).",
        "Array([-0.23840584,  0.        ,  2.8577223 ], dtype=float32)",
    ),
    "rational": LayerSpec(
        "Rational",
        get("rational"),
        _rational_params("leaky_relu", (5, 4)),
        "Rational / PAU, :func:`jaxact.rational` (safe denominator, version B); alias ``PAU``.",
        "Array([-4.5268293e-02, -4.2305840e-04,  2.9968789e+00], dtype=float32)",
        "Parameters ``numerator`` (``m + 1`` coefficients) and ``denominator`` (``n``).",
        (
            (
                "approx",
                "the function whose checked-in (5, 4) least-squares fit on [-3, 3] "
                "starts the layer: leaky_relu (default), relu, gelu, silu, tanh or sigmoid "
                "(see ``jaxact._pau``).",
            ),
            (
                "degrees",
                "``(m, n)``, default ``(5, 4)``; other degrees start from the identity ``x / 1``.",
            ),
        ),
        'approx="gelu"',
        ("pau",),
    ),
}


def rational_spec(approx: str, degrees: Sequence[int]) -> LayerSpec:
    """The rational (PAU) spec; ``degrees=(5, 4)`` starts from the fit to ``approx``."""
    return dataclasses.replace(SPECS["rational"], params=_rational_params(approx, degrees))


def initializers(
    spec: LayerSpec, param_init: Mapping[str, Initializer] | None
) -> dict[str, Initializer]:
    """Each parameter's initialiser: from ``param_init`` where given, else the table's."""
    given = dict(param_init or {})
    unknown = set(given) - {p.name for p in spec.params}
    if unknown:
        raise ValueError(f"param_init names unknown parameters {sorted(unknown)}")
    return {p.name: given.get(p.name, p.init) for p in spec.params}


def element_shape(features: Sequence[int], shared_axes: int | Sequence[int]) -> tuple[int, ...]:
    """Keras' per-element layout: ``features`` (``x.shape[1:]``) with ``shared_axes`` set to 1.

    ``shared_axes`` name axes of the input ``x``: 1 is the first after the batch axis;
    negative values count from the end. The batch axis 0 is always shared.
    """
    ndim = len(features) + 1
    given = (shared_axes,) if isinstance(shared_axes, int) else tuple(shared_axes)
    for a in given:
        if isinstance(a, bool) or not isinstance(a, int) or not -ndim < a < ndim or a % ndim == 0:
            raise ValueError(
                f"shared_axes {given} must name non-batch axes (1 to {ndim - 1}, or negative) "
                f"of an input with {ndim} axes"
            )
    axes = {a % ndim for a in given}
    if len(axes) != len(given):
        raise ValueError(f"shared_axes {given} names an axis twice")
    return tuple(1 if i + 1 in axes else int(n) for i, n in enumerate(features))


def input_features(x: Array, shared_axes: Axes) -> tuple[int, ...] | None:
    """``x.shape[1:]`` for the per-element layout (``shared_axes`` given), else None."""
    if shared_axes is None:
        return None
    if x.ndim == 0:
        raise ValueError("shared_axes needs a batched input (N, ...), got a scalar")
    return x.shape[1:]


def param_shape(
    p: ParamSpec,
    num_parameters: int = 1,
    shared_axes: Axes = None,
    features: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """Shape of ``p``: scalar, per channel (``num_parameters > 1``) or per element.

    The per-element layout (``shared_axes`` given) needs ``features``, the input's shape
    without the batch axis: linen reads it from the input, nnx from ``in_features``.
    """
    if num_parameters < 1:
        raise ValueError(f"num_parameters must be >= 1, got {num_parameters}")
    if shared_axes is None:
        if features is not None:
            raise ValueError(
                "in_features sets the per-element layout, which needs shared_axes: pass "
                "shared_axes=() for one parameter per element"
            )
        return ((num_parameters,) if num_parameters > 1 else ()) + p.trailing
    if num_parameters != 1:
        raise ValueError(
            f"shared_axes and num_parameters={num_parameters} are two layouts; choose one "
            "(per element with shared axes, or per channel of axis)"
        )
    if features is None:
        raise ValueError(
            "shared_axes needs in_features, the input shape without the batch axis "
            "(x.shape[1:]): nnx creates the parameters before it sees an input"
        )
    return element_shape(tuple(features), shared_axes) + p.trailing


def check_input(x: Array, num_parameters: int, axis: int, shared_axes: Axes, shape: tuple) -> None:
    """Clear error when the parameters (leading ``shape``) do not fit the input ``x``."""
    if shared_axes is not None:
        want = element_shape(input_features(x, shared_axes) or (), shared_axes)
        if want != shape:
            raise ValueError(
                f"input of shape {x.shape} with shared_axes {shared_axes} needs per-element "
                f"parameters of shape {want}; the layer has {shape}"
            )
        return
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
    promote: Promote,
    num_parameters: int = 1,
    axis: int = -1,
    shared_axes: Axes = None,
    dtype: Any = None,
) -> Array:
    """Call ``spec.fn`` on ``x`` and ``params``, all cast by ``promote(..., dtype=dtype)``.

    Per-channel parameters ``(C, *trailing)`` become ``(C, 1, ..., 1, *trailing)`` to line
    up with ``axis``; per-element and scalar ones already broadcast against ``x``.
    """
    x, *promoted = promote((x, *params.values()), dtype=dtype)
    values = dict(zip(params, promoted, strict=True))
    first = spec.params[0]  # all parameters share the layout; vectors add trailing axes
    value = values[first.name]
    check_input(
        x, num_parameters, axis, shared_axes, value.shape[: value.ndim - len(first.trailing)]
    )
    if num_parameters > 1:
        pad = (1,) * (x.ndim - 1 - axis % x.ndim)
        values = {k: v.reshape(v.shape[:1] + pad + v.shape[1:]) for k, v in values.items()}
    return spec.fn(x, **values)


# --- the layers outside the table ----------------------------------------------------------


def maxout(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike) -> Array:
    r"""Learnable maxout, :math:`y_j = \max_{i<k} (x W_{:, j, i} + c_{j, i})`.

    ``kernel`` has shape ``(in_features, out_features, k)``, ``bias`` ``(out_features, k)``;
    ``x`` is ``(..., in_features)``. Returns ``(..., out_features)``.
    """
    x = jnp.asarray(x)
    return jnp.max(jnp.einsum("...i,ijk->...jk", x, kernel) + bias, axis=-1)


def maxout_init(key: Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> Array:
    """LeCun-normal kernel ``(in_features, features, k)`` for :func:`maxout`, variance 1 / in."""
    return jax.nn.initializers.lecun_normal(in_axis=0, out_axis=(1, 2))(key, shape, dtype)


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
        inits[name] = constant(cast(ArrayLike, value))
    return fixed, inits
