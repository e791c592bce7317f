"""Learnable activations as Flax nnx modules: thin shells over jaxact's pure functions.

Same names and arguments as :mod:`jaxact.linen`, plus the keyword-only ``rngs``; every
layer except :class:`MetaAcon`, :class:`Maxout` (which need sizes) and :class:`Activation`
is constructible with only ``rngs=`` and then has scalar parameters that work on any input
shape. Common arguments: ``num_parameters`` (1: scalar; ``C``: one value per channel of
``axis``), ``axis`` (default -1), ``param_init`` (mapping parameter name -> initialiser
``init(key, shape, dtype)``), ``dtype`` (computation dtype; default: result type of input
and parameters, as ``nnx.nn.dtypes.promote_dtype``) and ``param_dtype`` (default float32).

Examples:
  >>> from flax import nnx
  >>> import jaxact.nnx as jnnx
  >>> layer = jnnx.PReLU(rngs=nnx.Rngs(0))
  >>> layer(jnp.array([-2.0, 0.0, 3.0]))
  Array([-0.5,  0. ,  3. ], dtype=float32)
  >>> per_channel = jnnx.PReLU(num_parameters=3, axis=1, rngs=nnx.Rngs(0))  # torch layout
  >>> per_channel(jnp.ones((2, 3, 4, 4))).shape
  (2, 3, 4, 4)
  >>> snake = jnnx.LEARNABLE["snake"](rngs=nnx.Rngs(0))
  >>> print(np.round(snake(jnp.array([0.0, 1.0])), 3))
  [0.    1.708]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp
from flax import nnx
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


class _Learnable(nnx.Module):
    """Shared shell: creates the table's parameters and calls :func:`jaxact._layers.apply`."""

    spec_name: str

    def __init__(
        self,
        *,
        num_parameters: int = 1,
        axis: int = -1,
        param_init: Mapping[str, _layers.Initializer] | None = None,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ) -> None:
        self.num_parameters, self.axis, self.dtype = num_parameters, axis, dtype
        spec = self.spec()
        inits = _layers.initializers(spec, param_init)
        for p in spec.params:
            value = inits[p.name](
                rngs.params(), _layers.param_shape(p, num_parameters), param_dtype
            )
            setattr(self, p.name, nnx.Param(value))

    def spec(self) -> _layers.LayerSpec:
        return _layers.SPECS[self.spec_name]

    def __call__(self, x: ArrayLike) -> Array:
        spec = self.spec()
        params = {p.name: getattr(self, p.name)[...] for p in spec.params}
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

    def __init__(
        self, *, approx: str = "leaky_relu", degrees: tuple[int, int] = (5, 4), **kwargs: Any
    ) -> None:
        self.approx, self.degrees = approx, tuple(degrees)
        super().__init__(**kwargs)

    def spec(self) -> _layers.LayerSpec:
        return _layers.rational_spec(self.approx, self.degrees)


PAU = Rational


class MetaAcon(nnx.Module):
    """Meta-ACON: ACON-C whose ``beta`` is predicted per channel from the input.

    ``beta = sigmoid(W2 W1 mean(x))``, the mean over all axes but the first (batch) and the
    last (``channels``); ``W1: C -> max(C // reduction, min_hidden)``, ``W2`` back to ``C``.
    ``p1``, ``p2`` are per-channel parameters (init 1 and 0). Input ``(N, ..., C)``.
    """

    def __init__(
        self,
        channels: int,
        *,
        reduction: int = 16,
        min_hidden: int = 4,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ) -> None:
        hidden = max(channels // reduction, min_hidden)
        dense = dict(dtype=dtype, param_dtype=param_dtype, rngs=rngs)
        self.fc1 = nnx.Linear(channels, hidden, **dense)
        self.fc2 = nnx.Linear(hidden, channels, **dense)
        self.p1 = nnx.Param(jnp.ones((channels,), param_dtype))
        self.p2 = nnx.Param(jnp.zeros((channels,), param_dtype))
        self.channels, self.dtype = channels, dtype

    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if x.ndim < 2 or x.shape[-1] != self.channels:
            raise ValueError(f"MetaAcon({self.channels}) needs input (N, ..., C), got {x.shape}")
        pooled = jnp.mean(x, axis=tuple(range(1, x.ndim - 1)), keepdims=True)
        beta = get("sigmoid")(self.fc2(self.fc1(pooled)))
        params = dict(p1=self.p1[...], p2=self.p2[...], beta=beta)
        return _layers.apply(_layers.SPECS["acon_c"], x, params, dtype=self.dtype)


class Maxout(nnx.Module):
    """Learnable maxout: ``features`` outputs, each the max of ``k`` affine pieces."""

    def __init__(
        self,
        in_features: int,
        features: int,
        *,
        k: int = 2,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ) -> None:
        if k < 1 or features < 1 or in_features < 1:
            raise ValueError(f"Maxout needs sizes >= 1, got {in_features}, {features}, k={k}")
        kernel = _layers.maxout_init(rngs.params(), in_features, features, k, param_dtype)
        self.kernel = nnx.Param(kernel)
        self.bias = nnx.Param(jnp.zeros((features, k), param_dtype))
        self.in_features, self.dtype = in_features, dtype

    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Maxout needs input (..., {self.in_features}), got {x.shape}")
        x, kernel, bias = nnx.nn.dtypes.promote_dtype(
            (x, self.kernel[...], self.bias[...]), dtype=self.dtype
        )
        return _layers.maxout(x, kernel, bias)


class Activation(nnx.Module):
    """Any registry activation as a layer; names in ``learnable`` become parameters.

    ``fn`` is a registry name or callable, ``params`` fixed keyword arguments; each name in
    ``learnable`` is a scalar parameter initialised from ``params`` or the entry's default.
    """

    def __init__(
        self,
        fn: str | Callable[..., Array] = "relu",
        params: Mapping[str, Any] | None = None,
        learnable: tuple[str, ...] = (),
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ) -> None:
        self.fixed, inits = _layers.activation_args(fn, params, learnable)
        self.fn, self.dtype, self.learnable = fn, dtype, tuple(learnable)
        self.values = nnx.Dict(
            {k: nnx.Param(init(rngs.params(), (), param_dtype)) for k, init in inits.items()}
        )

    def __call__(self, x: ArrayLike) -> Array:
        learned = [self.values[k][...] for k in self.learnable]
        x, *values = nnx.nn.dtypes.promote_dtype((x, *learned), dtype=self.dtype)
        return get(self.fn)(x, **self.fixed, **dict(zip(self.learnable, values, strict=True)))


#: Default-constructible layers that keep any input shape, by CLI name. Left out: MetaAcon
#: (needs ``channels``), Maxout (needs sizes), Activation (needs ``fn``).
LEARNABLE: dict[str, type[nnx.Module]] = {
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
