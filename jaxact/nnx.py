"""Learnable activations as Flax nnx modules: thin shells over jaxact's pure functions.

Same names and arguments as :mod:`jaxact.linen`, plus the keyword-only ``rngs``, and
``in_features`` where linen reads a size from the input. The table layers (all but
:class:`MetaAcon`, :class:`Maxout` and :class:`Activation`, which need sizes or ``fn``)
are described once, in ``jaxact._layers.SPECS``, and are constructible with only
``rngs=``: scalar parameters that work on any input shape. Shared arguments:
``num_parameters``, ``axis``, ``shared_axes`` and ``in_features`` (the parameters'
layout), ``param_init``, ``dtype``, ``param_dtype`` and ``promote_dtype``.

Examples:
  >>> import jax.numpy as jnp
  >>> from flax import nnx
  >>> import jaxact.nnx as jnnx
  >>> x = jnp.ones((8, 5, 5, 3))  # (N, H, W, C)
  >>> jnnx.PReLU(rngs=nnx.Rngs(0)).alpha.shape  # one slope
  ()
  >>> jnnx.PReLU(num_parameters=3, axis=-1, rngs=nnx.Rngs(0)).alpha.shape  # per channel
  (3,)
  >>> keras = jnnx.PReLU(shared_axes=(1, 2), in_features=x.shape[1:], rngs=nnx.Rngs(0))
  >>> keras.alpha.shape  # per element of x.shape[1:], shared over H and W
  (1, 1, 3)
  >>> keras(x).shape
  (8, 5, 5, 3)
  >>> snake = jnnx.LEARNABLE["snake"](rngs=nnx.Rngs(0))
  >>> print(np.round(snake(jnp.array([0.0, 1.0])), 3))
  [0.    1.708]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import jax.numpy as jnp
from flax import nnx
from flax.nnx.nn import dtypes
from flax.typing import PromoteDtypeFn
from jax import Array
from jax.typing import ArrayLike

from jaxact import _layers, _layers_doc
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

_CLASSES: dict[str, Any] = {}  # table name -> class, filled as the classes are defined


class _Learnable(nnx.Module):
    """Shared shell: creates the table's parameters and calls :func:`jaxact._layers.apply`.

    Subclasses name their ``SPECS`` entry in ``spec_name`` and get their docstring from it.
    """

    spec_name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _layers_doc.register(_CLASSES, cls, "nnx")

    def __init__(
        self,
        *,
        num_parameters: int = 1,
        axis: int = -1,
        shared_axes: int | Sequence[int] | None = None,
        in_features: int | Sequence[int] | None = None,
        param_init: Mapping[str, _layers.Initializer] | None = None,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        promote_dtype: PromoteDtypeFn = dtypes.promote_dtype,
        rngs: nnx.Rngs,
    ) -> None:
        if shared_axes is not None and not isinstance(shared_axes, int):
            shared_axes = tuple(shared_axes)
        if in_features is not None:
            in_features = (in_features,) if isinstance(in_features, int) else tuple(in_features)
        self.num_parameters, self.axis, self.shared_axes = num_parameters, axis, shared_axes
        self.dtype, self.promote_dtype = dtype, promote_dtype
        spec = self.spec()
        inits = _layers.initializers(spec, param_init)
        for p in spec.params:
            shape = _layers.param_shape(p, num_parameters, shared_axes, in_features)
            setattr(self, p.name, nnx.Param(inits[p.name](rngs.params(), shape, param_dtype)))

    def spec(self) -> _layers.LayerSpec:
        return _layers.SPECS[self.spec_name]

    def __call__(self, x: ArrayLike) -> Array:
        spec = self.spec()
        return _layers.apply(
            spec,
            x,
            {p.name: getattr(self, p.name)[...] for p in spec.params},
            promote=self.promote_dtype,
            num_parameters=self.num_parameters,
            axis=self.axis,
            shared_axes=self.shared_axes,
            dtype=self.dtype,
        )


# Each table layer: its docstring is written from _layers.SPECS[spec_name].
class PReLU(_Learnable):
    spec_name = "prelu"


class Swish(_Learnable):
    spec_name = "swish"


SiLU = Swish


class PELU(_Learnable):
    spec_name = "pelu"


class SReLU(_Learnable):
    spec_name = "srelu"


class APL(_Learnable):
    spec_name = "apl"


class Snake(_Learnable):
    spec_name = "snake"


class SoftExponential(_Learnable):
    spec_name = "soft_exponential"


class StarReLU(_Learnable):
    spec_name = "star_relu"


class AconC(_Learnable):
    spec_name = "acon_c"


class Rational(_Learnable):
    spec_name = "rational"

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

    Args:
      channels: ``C``, the size of the input's last axis.
      reduction: bottleneck ratio of the hidden layer (default 16).
      min_hidden: smallest hidden width (default 4).
      dtype: computation dtype; ``None`` (default): the result type of input and parameters.
      param_dtype: dtype of the parameters (default float32).
      promote_dtype: as in the table layers; also given to the two ``nnx.Linear``.
      rngs: ``nnx.Rngs`` for the two linear layers.

    Examples:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> from jaxact.nnx import MetaAcon
      >>> layer = MetaAcon(8, rngs=nnx.Rngs(0))
      >>> layer.fc1.kernel.shape, layer.p1.shape
      ((8, 4), (8,))
      >>> layer(jnp.ones((2, 5, 5, 8))).shape
      (2, 5, 5, 8)
    """

    def __init__(
        self,
        channels: int,
        *,
        reduction: int = 16,
        min_hidden: int = 4,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        promote_dtype: PromoteDtypeFn = dtypes.promote_dtype,
        rngs: nnx.Rngs,
    ) -> None:
        hidden = max(channels // reduction, min_hidden)
        dense = dict(dtype=dtype, param_dtype=param_dtype, promote_dtype=promote_dtype, rngs=rngs)
        self.fc1 = nnx.Linear(channels, hidden, **dense)
        self.fc2 = nnx.Linear(hidden, channels, **dense)
        self.p1 = nnx.Param(jnp.ones((channels,), param_dtype))
        self.p2 = nnx.Param(jnp.zeros((channels,), param_dtype))
        self.channels, self.dtype, self.promote_dtype = channels, dtype, promote_dtype

    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if x.ndim < 2 or x.shape[-1] != self.channels:
            raise ValueError(f"MetaAcon({self.channels}) needs input (N, ..., C), got {x.shape}")
        pooled = jnp.mean(x, axis=tuple(range(1, x.ndim - 1)), keepdims=True)
        beta = get("sigmoid")(self.fc2(self.fc1(pooled)))
        params = dict(p1=self.p1[...], p2=self.p2[...], beta=beta)
        return _layers.apply(
            _layers.SPECS["acon_c"], x, params, promote=self.promote_dtype, dtype=self.dtype
        )


class Maxout(nnx.Module):
    r"""Learnable maxout: ``features`` outputs, each the max of ``k`` affine pieces.

    :math:`y_j = \max_{i<k} (x W_{:, j, i} + c_{j, i})` on the last axis of ``x``; the
    kernel starts LeCun-normal, the bias at 0.

    Args:
      in_features: size of the input's last axis.
      features: number of outputs.
      k: pieces per output (default 2).
      dtype: computation dtype; ``None`` (default): the result type of input and parameters.
      param_dtype: dtype of the parameters (default float32).
      promote_dtype: ``promote_dtype((x, kernel, bias), dtype=dtype)``, as in ``nnx.Linear``.
      rngs: ``nnx.Rngs``; the kernel draws from ``rngs.params()``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> from jaxact.nnx import Maxout
      >>> layer = Maxout(5, 2, k=3, rngs=nnx.Rngs(0))
      >>> layer.kernel.shape, layer.bias.shape
      ((5, 2, 3), (2, 3))
      >>> layer(jnp.ones((4, 5))).shape
      (4, 2)
    """

    def __init__(
        self,
        in_features: int,
        features: int,
        *,
        k: int = 2,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        promote_dtype: PromoteDtypeFn = dtypes.promote_dtype,
        rngs: nnx.Rngs,
    ) -> None:
        if k < 1 or features < 1 or in_features < 1:
            raise ValueError(f"Maxout needs sizes >= 1, got {in_features}, {features}, k={k}")
        kernel = _layers.maxout_init(rngs.params(), (in_features, features, k), param_dtype)
        self.kernel = nnx.Param(kernel)
        self.bias = nnx.Param(jnp.zeros((features, k), param_dtype))
        self.in_features, self.dtype, self.promote_dtype = in_features, dtype, promote_dtype

    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Maxout needs input (..., {self.in_features}), got {x.shape}")
        x, kernel, bias = self.promote_dtype(
            (x, self.kernel[...], self.bias[...]), dtype=self.dtype
        )
        return _layers.maxout(x, kernel, bias)


class Activation(nnx.Module):
    """Any registry activation as a layer; names in ``learnable`` become parameters.

    Args:
      fn: a registry name or a callable (default ``"relu"``).
      params: fixed keyword arguments of ``fn``; those named in ``learnable`` give
        the learnable parameters' initial values instead.
      learnable: names of ``fn``'s keyword arguments to learn, each a scalar parameter
        that starts at its value in ``params``, else at the registry default.
      dtype: computation dtype; ``None`` (default): the result type of input and parameters.
      param_dtype: dtype of the parameters (default float32).
      promote_dtype: ``promote_dtype((x, *params), dtype=dtype)``, as in ``nnx.Linear``.
      rngs: ``nnx.Rngs`` (the initial values are constants).

    Examples:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> from jaxact.nnx import Activation
      >>> layer = Activation("elu", learnable=("alpha",), rngs=nnx.Rngs(0))
      >>> layer.values["alpha"][...]
      Array(1., dtype=float32)
      >>> layer(jnp.array([-1.0, 1.0]))
      Array([-0.63212055,  1.        ], dtype=float32)
    """

    def __init__(
        self,
        fn: str | Callable[..., Array] = "relu",
        params: Mapping[str, Any] | None = None,
        learnable: tuple[str, ...] = (),
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        promote_dtype: PromoteDtypeFn = dtypes.promote_dtype,
        rngs: nnx.Rngs,
    ) -> None:
        self.fixed, inits = _layers.activation_args(fn, params, learnable)
        self.fn, self.dtype, self.learnable = fn, dtype, tuple(learnable)
        self.promote_dtype = promote_dtype
        self.values = nnx.Dict(
            {k: nnx.Param(init(rngs.params(), (), param_dtype)) for k, init in inits.items()}
        )

    def __call__(self, x: ArrayLike) -> Array:
        learned = [self.values[k][...] for k in self.learnable]
        x, *values = self.promote_dtype((x, *learned), dtype=self.dtype)
        return get(self.fn)(x, **self.fixed, **dict(zip(self.learnable, values, strict=True)))


#: Default-constructible layers that keep any input shape, by CLI name (the table's names
#: and aliases). Left out: MetaAcon (needs ``channels``), Maxout (needs sizes), Activation
#: (needs ``fn``).
LEARNABLE: dict[str, type[nnx.Module]] = _layers_doc.learnable(_CLASSES)
