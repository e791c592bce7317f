"""Learnable activations as Flax linen modules: thin shells over jaxact's pure functions.

Every layer owns only its parameters and calls the pure function (see ``jaxact._layers``
for the shared table), so outputs and gradients equal those of :mod:`jaxact.nnx` and of the
function. Common fields: ``num_parameters`` (1: scalar parameters, the default, any input
shape; ``C``: one value per channel of ``axis``), ``axis`` (default -1, channels-last),
``param_init`` (mapping parameter name -> initialiser ``init(key, shape, dtype)``),
``dtype`` (computation dtype; default: result type of input and parameters) and
``param_dtype`` (default float32).

Examples:
  >>> import flax.linen as nn
  >>> import jaxact.linen as jlinen
  >>> layer = jlinen.PReLU()
  >>> variables = layer.init(jax.random.key(0), jnp.ones((2, 3)))
  >>> variables["params"]["alpha"]
  Array(0.25, dtype=float32)
  >>> layer.apply(variables, jnp.array([-2.0, 0.0, 3.0]))
  Array([-0.5,  0. ,  3. ], dtype=float32)
  >>> rational = jlinen.Rational(approx="gelu")  # PAU (5, 4), starts as a GELU fit
  >>> v = rational.init(jax.random.key(0), jnp.zeros(3))
  >>> print(np.round(rational.apply(v, jnp.array([-1.0, 0.0, 1.0])), 2))
  [-0.16 -0.    0.84]
  >>> sorted(jlinen.LEARNABLE)[:4]
  ['acon_c', 'apl', 'pau', 'pelu']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import flax.linen as nn
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _layers
from jaxact._registry import get

__all__ = [
    "APL",
    "LEARNABLE",
    "PAU",
    "PELU",
    "AconC",
    "Activation",
    "Maxout",
    "MetaAcon",
    "PReLU",
    "Rational",
    "SReLU",
    "SiLU",
    "Snake",
    "SoftExponential",
    "StarReLU",
    "Swish",
]


class _Learnable(nn.Module):
    """Shared shell: creates the table's parameters and calls :func:`jaxact._layers.apply`."""

    num_parameters: int = 1
    axis: int = -1
    param_init: Mapping[str, _layers.Initializer] | None = None
    dtype: Any = None
    param_dtype: Any = jnp.float32
    spec_name: ClassVar[str]

    def spec(self) -> _layers.LayerSpec:
        return _layers.SPECS[self.spec_name]

    @nn.compact
    def __call__(self, x: ArrayLike) -> Array:
        spec = self.spec()
        inits = _layers.initializers(spec, self.param_init)
        params = {
            p.name: self.param(
                p.name,
                inits[p.name],
                _layers.param_shape(p, self.num_parameters),
                self.param_dtype,
            )
            for p in spec.params
        }
        return _layers.apply(
            spec, x, params, num_parameters=self.num_parameters, axis=self.axis, dtype=self.dtype
        )


class PReLU(_Learnable):
    """PReLU, :func:`jaxact.prelu`, slope ``alpha`` (init 0.25); torch form: ``axis=1``."""

    spec_name = "prelu"


class Swish(_Learnable):
    """Swish / SiLU with learnable ``beta`` (init 1.0), :func:`jaxact.silu`."""

    spec_name = "swish"


SiLU = Swish


class PELU(_Learnable):
    """Parametric ELU, :func:`jaxact.pelu`, parameters ``a``, ``b`` (init 1.0)."""

    spec_name = "pelu"


class SReLU(_Learnable):
    """S-shaped ReLU, :func:`jaxact.srelu`, ``t_left, a_left, t_right, a_right``."""

    spec_name = "srelu"


class APL(_Learnable):
    """Adaptive piecewise linear, :func:`jaxact.apl`, two hinges ``a``, ``b``."""

    spec_name = "apl"


class Snake(_Learnable):
    """Snake, :func:`jaxact.snake`, frequency ``a`` (init 1.0)."""

    spec_name = "snake"


class SoftExponential(_Learnable):
    """Soft exponential, :func:`jaxact.soft_exponential`, ``alpha`` (init 0: identity)."""

    spec_name = "soft_exponential"


class StarReLU(_Learnable):
    """StarReLU, :func:`jaxact.star_relu`, scale ``s`` and bias ``b``."""

    spec_name = "star_relu"


class AconC(_Learnable):
    """ACON-C, :func:`jaxact.acon_c`, ``p1`` (1.0), ``p2`` (0.0), ``beta`` (1.0)."""

    spec_name = "acon_c"


class Rational(_Learnable):
    """Rational / PAU, :func:`jaxact.rational` (safe denominator, version B).

    ``degrees=(5, 4)`` (default) starts from the checked-in least-squares fit to ``approx``
    (one of leaky_relu, relu, gelu, silu, tanh, sigmoid; see ``jaxact._pau``); other degrees
    start from the identity.
    """

    approx: str = "leaky_relu"
    degrees: tuple[int, int] = (5, 4)

    def spec(self) -> _layers.LayerSpec:
        return _layers.rational_spec(self.approx, tuple(self.degrees))


PAU = Rational


class MetaAcon(nn.Module):
    """Meta-ACON: ACON-C whose ``beta`` is predicted per channel from the input.

    ``beta = sigmoid(W2 W1 mean(x))``, the mean over all axes but the first (batch) and the
    last (channels); ``W1: C -> max(C // reduction, min_hidden)``, ``W2`` back to ``C``.
    ``p1``, ``p2`` are per-channel parameters (init 1 and 0). Input ``(N, ..., C)``.
    """

    reduction: int = 16
    min_hidden: int = 4
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"MetaAcon needs input (N, ..., C), got shape {x.shape}")
        c = x.shape[-1]
        hidden = max(c // self.reduction, self.min_hidden)
        dense = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        pooled = jnp.mean(x, axis=tuple(range(1, x.ndim - 1)), keepdims=True)
        hidden = nn.Dense(hidden, **dense)(pooled)  # named Dense_0, like nnx's fc1
        beta = get("sigmoid")(nn.Dense(c, **dense)(hidden))
        p1 = self.param("p1", nn.initializers.ones, (c,), self.param_dtype)
        p2 = self.param("p2", nn.initializers.zeros, (c,), self.param_dtype)
        return _layers.apply(
            _layers.SPECS["acon_c"], x, dict(p1=p1, p2=p2, beta=beta), dtype=self.dtype
        )


class Maxout(nn.Module):
    """Learnable maxout: ``features`` outputs, each the max of ``k`` affine pieces."""

    features: int
    k: int = 2
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if x.ndim == 0 or self.k < 1 or self.features < 1:
            raise ValueError(f"Maxout needs k, features >= 1 and x.ndim >= 1, got {x.shape}")
        kernel = self.param(
            "kernel",
            lambda key, shape, dt: _layers.maxout_init(key, *shape, dt),
            (x.shape[-1], self.features, self.k),
            self.param_dtype,
        )
        bias = self.param("bias", nn.initializers.zeros, (self.features, self.k), self.param_dtype)
        x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
        return _layers.maxout(x, kernel, bias)


class Activation(nn.Module):
    """Any registry activation as a layer; names in ``learnable`` become parameters.

    ``fn`` is a registry name or callable, ``params`` fixed keyword arguments; each name in
    ``learnable`` is a scalar parameter initialised from ``params`` or the entry's default.
    """

    fn: str | Callable[..., Array] = "relu"
    params: Mapping[str, Any] | None = None
    learnable: tuple[str, ...] = ()
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: ArrayLike) -> Array:
        fixed, inits = _layers.activation_args(self.fn, self.params, self.learnable)
        learned = {k: self.param(k, init, (), self.param_dtype) for k, init in inits.items()}
        x, *values = nn.dtypes.promote_dtype(x, *learned.values(), dtype=self.dtype)
        return get(self.fn)(x, **fixed, **dict(zip(learned, values, strict=True)))


#: Default-constructible layers that keep any input shape, by CLI name. Left out: MetaAcon
#: (needs a (N, ..., C) input) and Maxout (needs ``features``), Activation (needs ``fn``).
LEARNABLE: dict[str, type[nn.Module]] = {
    "prelu": PReLU,
    "swish": Swish,
    "pelu": PELU,
    "srelu": SReLU,
    "apl": APL,
    "snake": Snake,
    "soft_exponential": SoftExponential,
    "star_relu": StarReLU,
    "acon_c": AconC,
    "rational": Rational,
    "pau": Rational,
}
