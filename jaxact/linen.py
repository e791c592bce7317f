"""Learnable activations as Flax linen modules: thin shells over jaxact's pure functions.

Every layer owns only its parameters and calls the pure function, so outputs and gradients
equal those of :mod:`jaxact.nnx` and of the function. The table layers (all but
:class:`MetaAcon`, :class:`Maxout` and :class:`Activation`) are described once, in
``jaxact._layers.SPECS``, and share the arguments ``num_parameters``, ``axis`` and
``shared_axes`` (the parameters' layout), ``param_init``, ``dtype``, ``param_dtype`` and
``promote_dtype``. Parameter shapes come from the input at ``init``.

Examples:
  >>> import jax
  >>> import jax.numpy as jnp
  >>> import jaxact.linen as jlinen
  >>> x = jnp.ones((8, 5, 5, 3))  # (N, H, W, C)
  >>> def alpha_shape(layer):
  ...     return layer.init(jax.random.key(0), x)["params"]["alpha"].shape
  >>> alpha_shape(jlinen.PReLU())  # one slope
  ()
  >>> alpha_shape(jlinen.PReLU(num_parameters=3))  # per channel of axis=-1
  (3,)
  >>> alpha_shape(jlinen.PReLU(shared_axes=(1, 2)))  # Keras: per element, shared over H, W
  (1, 1, 3)
  >>> sorted(jlinen.LEARNABLE)[:4]
  ['acon_c', 'apl', 'pau', 'pelu']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import flax.linen as nn
import jax.numpy as jnp
from flax.linen import dtypes
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


# linen's promote_dtype is variadic: promote_dtype(x, *params, dtype=..., inexact=True)
Promote = Callable[..., Any]


def _tupled(promote: Promote) -> Callable[..., tuple[Array, ...]]:
    """``promote`` in the tuple form ``_layers.apply`` calls (nnx's): ``(args, dtype)``."""
    return lambda args, dtype=None: tuple(promote(*args, dtype=dtype))


_CLASSES: dict[str, Any] = {}  # table name -> class, filled as the classes are defined


class _Learnable(nn.Module):
    """Shared shell: creates the table's parameters and calls :func:`jaxact._layers.apply`.

    Subclasses name their ``SPECS`` entry in ``spec_name`` and get their docstring from it.
    """

    num_parameters: int = 1
    axis: int = -1
    shared_axes: int | tuple[int, ...] | None = None
    param_init: Mapping[str, _layers.Initializer] | None = None
    dtype: Any = None
    param_dtype: Any = jnp.float32
    promote_dtype: Promote = dtypes.promote_dtype
    spec_name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _layers_doc.register(_CLASSES, cls, "linen")

    def spec(self) -> _layers.LayerSpec:
        return _layers.SPECS[self.spec_name]

    @nn.compact
    def __call__(self, x: ArrayLike) -> Array:
        x, spec = jnp.asarray(x), self.spec()
        inits = _layers.initializers(spec, self.param_init)
        features = _layers.input_features(x, self.shared_axes)
        params = {
            p.name: self.param(
                p.name,
                inits[p.name],
                _layers.param_shape(p, self.num_parameters, self.shared_axes, features),
                self.param_dtype,
            )
            for p in spec.params
        }
        return _layers.apply(
            spec,
            x,
            params,
            promote=_tupled(self.promote_dtype),
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
    approx: str = "leaky_relu"
    degrees: tuple[int, int] = (5, 4)

    def spec(self) -> _layers.LayerSpec:
        return _layers.rational_spec(self.approx, self.degrees)


PAU = Rational


class MetaAcon(nn.Module):
    """Meta-ACON: ACON-C whose ``beta`` is predicted per channel from the input.

    ``beta = sigmoid(W2 W1 mean(x))``, the mean over all axes but the first (batch) and the
    last (channels); ``W1: C -> max(C // reduction, min_hidden)``, ``W2`` back to ``C``.
    ``p1``, ``p2`` are per-channel parameters (init 1 and 0). Input ``(N, ..., C)``.

    Args:
      reduction: bottleneck ratio of the hidden layer (default 16).
      min_hidden: smallest hidden width (default 4).
      dtype: computation dtype; ``None`` (default): the result type of input and parameters.
      param_dtype: dtype of the parameters (default float32).
      promote_dtype: as in the table layers; also given to the two ``nn.Dense``.

    Examples:
      >>> import jax
      >>> import jax.numpy as jnp
      >>> from jaxact.linen import MetaAcon
      >>> layer = MetaAcon()
      >>> x = jnp.ones((2, 5, 5, 8))  # (N, H, W, C)
      >>> variables = layer.init(jax.random.key(0), x)
      >>> jax.tree.map(jnp.shape, variables["params"])["Dense_0"]
      {'bias': (4,), 'kernel': (8, 4)}
      >>> layer.apply(variables, x).shape
      (2, 5, 5, 8)
    """

    reduction: int = 16
    min_hidden: int = 4
    dtype: Any = None
    param_dtype: Any = jnp.float32
    promote_dtype: Promote = dtypes.promote_dtype

    @nn.compact
    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"MetaAcon needs input (N, ..., C), got shape {x.shape}")
        c = x.shape[-1]
        hidden = max(c // self.reduction, self.min_hidden)
        dense = dict(
            dtype=self.dtype, param_dtype=self.param_dtype, promote_dtype=self.promote_dtype
        )
        pooled = jnp.mean(x, axis=tuple(range(1, x.ndim - 1)), keepdims=True)
        hidden = nn.Dense(hidden, **dense)(pooled)  # named Dense_0, like nnx's fc1
        beta = get("sigmoid")(nn.Dense(c, **dense)(hidden))
        p1 = self.param("p1", nn.initializers.ones, (c,), self.param_dtype)
        p2 = self.param("p2", nn.initializers.zeros, (c,), self.param_dtype)
        params = dict(p1=p1, p2=p2, beta=beta)
        return _layers.apply(
            _layers.SPECS["acon_c"],
            x,
            params,
            promote=_tupled(self.promote_dtype),
            dtype=self.dtype,
        )


class Maxout(nn.Module):
    r"""Learnable maxout: ``features`` outputs, each the max of ``k`` affine pieces.

    :math:`y_j = \max_{i<k} (x W_{:, j, i} + c_{j, i})` on the last axis of ``x``; the
    kernel starts LeCun-normal, the bias at 0.

    Args:
      features: number of outputs.
      k: pieces per output (default 2).
      dtype: computation dtype; ``None`` (default): the result type of input and parameters.
      param_dtype: dtype of the parameters (default float32).
      promote_dtype: ``promote_dtype(x, kernel, bias, dtype=dtype)``, as in ``nn.Dense``.

    Examples:
      >>> import jax
      >>> import jax.numpy as jnp
      >>> from jaxact.linen import Maxout
      >>> layer = Maxout(features=2, k=3)
      >>> x = jnp.ones((4, 5))
      >>> variables = layer.init(jax.random.key(0), x)
      >>> jax.tree.map(jnp.shape, variables["params"])
      {'bias': (2, 3), 'kernel': (5, 2, 3)}
      >>> layer.apply(variables, x).shape
      (4, 2)
    """

    features: int
    k: int = 2
    dtype: Any = None
    param_dtype: Any = jnp.float32
    promote_dtype: Promote = dtypes.promote_dtype

    @nn.compact
    def __call__(self, x: ArrayLike) -> Array:
        x = jnp.asarray(x)
        if x.ndim == 0 or self.k < 1 or self.features < 1:
            raise ValueError(f"Maxout needs k, features >= 1 and x.ndim >= 1, got {x.shape}")
        kernel = self.param(
            "kernel",
            _layers.maxout_init,
            (x.shape[-1], self.features, self.k),
            self.param_dtype,
        )
        bias = self.param("bias", nn.initializers.zeros, (self.features, self.k), self.param_dtype)
        x, kernel, bias = self.promote_dtype(x, kernel, bias, dtype=self.dtype)
        return _layers.maxout(x, kernel, bias)


class Activation(nn.Module):
    """Any registry activation as a layer; names in ``learnable`` become parameters.

    Args:
      fn: a registry name or a callable (default ``"relu"``).
      params: fixed keyword arguments of ``fn``; those named in ``learnable`` give
        the learnable parameters' initial values instead.
      learnable: names of ``fn``'s keyword arguments to learn, each a scalar parameter
        that starts at its value in ``params``, else at the registry default.
      dtype: computation dtype; ``None`` (default): the result type of input and parameters.
      param_dtype: dtype of the parameters (default float32).
      promote_dtype: ``promote_dtype(x, *params, dtype=dtype)``, as in ``nn.Dense``.

    Examples:
      >>> import jax
      >>> import jax.numpy as jnp
      >>> from jaxact.linen import Activation
      >>> layer = Activation("elu", learnable=("alpha",))
      >>> x = jnp.array([-1.0, 1.0])
      >>> variables = layer.init(jax.random.key(0), x)
      >>> variables["params"]["alpha"]
      Array(1., dtype=float32)
      >>> layer.apply(variables, x)
      Array([-0.63212055,  1.        ], dtype=float32)
    """

    fn: str | Callable[..., Array] = "relu"
    params: Mapping[str, Any] | None = None
    learnable: tuple[str, ...] = ()
    dtype: Any = None
    param_dtype: Any = jnp.float32
    promote_dtype: Promote = dtypes.promote_dtype

    @nn.compact
    def __call__(self, x: ArrayLike) -> Array:
        fixed, inits = _layers.activation_args(self.fn, self.params, self.learnable)
        learned = {k: self.param(k, init, (), self.param_dtype) for k, init in inits.items()}
        x, *values = self.promote_dtype(x, *learned.values(), dtype=self.dtype)
        return get(self.fn)(x, **fixed, **dict(zip(learned, values, strict=True)))


#: Default-constructible layers that keep any input shape, by CLI name (the table's names
#: and aliases). Left out: MetaAcon (needs a (N, ..., C) input), Maxout (needs
#: ``features``), Activation (needs ``fn``).
LEARNABLE: dict[str, type[nn.Module]] = _layers_doc.learnable(_CLASSES)
