"""Piecewise-linear and piecewise-quadratic functions, with their kink conventions.

Each derivative is written out (not left to autodiff of ``clip``/``maximum``, whose
tie rules give 1/2 or 1/4 at kinks) so the convention in the docstring is the rule.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math
from jaxact._registry import Entry, Kink, Param, register


def _hard_sigmoid_parts(x: Array) -> tuple[Array, Array]:
    # (x + 3) is exact near x = -3 (Sterbenz), so the small outputs keep their accuracy.
    return jnp.clip(x + 3.0, 0.0, 6.0) / 6.0, jnp.where(jnp.abs(x) < 3.0, 1.0 / 6.0, 0.0)


_hard_sigmoid = _math.elementwise(_hard_sigmoid_parts)


def hard_sigmoid(x: ArrayLike) -> Array:
    r"""Hard sigmoid, the piecewise-linear sigmoid of MobileNetV3.

    .. math::
        \mathrm{hard\_sigmoid}(x) = \frac{\mathrm{relu6}(x + 3)}{6},
        \qquad \mathrm{hard\_sigmoid}'(x) = \tfrac{1}{6}\,[|x| < 3]

    Convention: the derivative at the kinks :math:`x = \pm 3` is 0 (as ``jax.nn``).

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``, in :math:`[0, 1]`.

    Examples:
      >>> ja.hard_sigmoid(jnp.array([-4.0, 0.0, 1.5, 4.0]))
      Array([0.  , 0.5 , 0.75, 1.  ], dtype=float32)
    """
    return _core.apply(_hard_sigmoid, _core.as_array(x, "hard_sigmoid"))


register(Entry("hard_sigmoid", hard_sigmoid, "elementwise", r"\frac{\mathrm{relu6}(x+3)}{6}",
               r"\tfrac{1}{6}[|x|<3]", range=(0.0, 1.0), smooth=False,
               kinks=(Kink(-3.0, 0.0, "as jax.nn"), Kink(3.0, 0.0, "as jax.nn")),
               reference="Howard et al. 2019, arXiv:1905.02244"))


def _sparse_sigmoid_parts(x: Array) -> tuple[Array, Array]:
    return 0.5 * jnp.clip(x + 1.0, 0.0, 2.0), jnp.where(jnp.abs(x) <= 1.0, 0.5, 0.0)


_sparse_sigmoid = _math.elementwise(_sparse_sigmoid_parts)


def sparse_sigmoid(x: ArrayLike) -> Array:
    r"""Sparse sigmoid, the derivative of :func:`sparse_plus`.

    .. math::
        \mathrm{sparse\_sigmoid}(x) = \mathrm{clip}\left(\frac{x + 1}{2}, 0, 1\right),
        \qquad \mathrm{sparse\_sigmoid}'(x) = \tfrac{1}{2}\,[|x| \le 1]

    Convention: the derivative at the kinks :math:`x = \pm 1` is :math:`1/2`, the
    inner slope, as for :func:`hard_tanh` (``jax.nn`` returns 1/4 there, an artefact
    of ``clip``'s tie rule).

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``, in :math:`[0, 1]`.

    Examples:
      >>> ja.sparse_sigmoid(jnp.array([-2.0, 0.0, 0.5, 2.0]))
      Array([0.  , 0.5 , 0.75, 1.  ], dtype=float32)

    References:
      Blondel et al., Learning with Fenchel-Young Losses, arXiv:1901.02324.
    """
    return _core.apply(_sparse_sigmoid, _core.as_array(x, "sparse_sigmoid"))


register(Entry("sparse_sigmoid", sparse_sigmoid, "elementwise",
               r"\mathrm{clip}(\tfrac{x+1}{2}, 0, 1)", r"\tfrac12[|x|\le 1]", range=(0.0, 1.0),
               smooth=False, kinks=(Kink(-1.0, 0.5, "inner slope"), Kink(1.0, 0.5, "inner slope")),
               reference="Blondel et al. 2019, arXiv:1901.02324"))


def _sparse_plus_parts(x: Array) -> tuple[Array, Array]:
    inner = jnp.where(jnp.abs(x) >= 1.0, 0.0, x)  # keep (x+1)^2 finite where unused; NaN stays
    y = jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, 0.25 * jnp.square(inner + 1.0)))
    return y, 0.5 * jnp.clip(x + 1.0, 0.0, 2.0)


_sparse_plus = _math.elementwise(_sparse_plus_parts)


def sparse_plus(x: ArrayLike) -> Array:
    r"""Sparse plus, the piecewise-quadratic twin of softplus.

    .. math::
        \mathrm{sparse\_plus}(x) = \begin{cases} 0 & x \le -1 \\
        \tfrac14 (x + 1)^2 & -1 < x < 1 \\ x & x \ge 1 \end{cases},
        \qquad \mathrm{sparse\_plus}'(x) = \mathrm{sparse\_sigmoid}(x)

    Continuously differentiable: no kink convention is needed.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.sparse_plus(jnp.array([-2.0, 0.0, 0.5, 2.0]))
      Array([0.    , 0.25  , 0.5625, 2.    ], dtype=float32)

    References:
      Blondel et al., Learning with Fenchel-Young Losses, arXiv:1901.02324.
    """
    return _core.apply(_sparse_plus, _core.as_array(x, "sparse_plus"))


register(Entry("sparse_plus", sparse_plus, "elementwise",
               r"\begin{cases}0&x\le-1\\ \frac14(x+1)^2&|x|<1\\ x&x\ge1\end{cases}",
               r"\mathrm{sparse\_sigmoid}(x)", range=(0.0, float("inf")), smooth=False,
               reference="Blondel et al. 2019, arXiv:1901.02324"))


def identity(x: ArrayLike) -> Array:
    r"""Identity, :math:`f(x) = x`, :math:`f'(x) = 1`; keeps integer dtypes.

    Args:
      x: input array.

    Returns:
      ``x`` as an array.

    Examples:
      >>> ja.identity(jnp.array([-1, 2]))
      Array([-1,  2], dtype=int32)
    """
    return _core.as_array(x, "identity", keep_int=True)


register(Entry("identity", identity, "elementwise", "x", "1", aliases=("linear",),
               keeps_int=True, reference="textbook"))


def _relu_parts(x: Array) -> tuple[Array, Array]:
    return jnp.maximum(x, 0), x > 0


_relu = _math.elementwise(_relu_parts)


def relu(x: ArrayLike) -> Array:
    r"""Rectified linear unit; keeps integer dtypes.

    .. math::
        \mathrm{relu}(x) = \max(x, 0), \qquad \mathrm{relu}'(x) = [x > 0]

    Convention: :math:`\mathrm{relu}'(0) = 0`, as ``jax.nn`` (see Bertoin et al.,
    Numerical influence of ReLU'(0) on backpropagation, NeurIPS 2021).

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.relu(jnp.array([-1.0, 0.0, 2.0]))
      Array([0., 0., 2.], dtype=float32)
      >>> float(jax.grad(ja.relu)(0.0))
      0.0
    """
    return _core.apply(_relu, _core.as_array(x, "relu", keep_int=True))


register(Entry("relu", relu, "elementwise", r"\max(x, 0)", r"[x > 0]", range=(0.0, float("inf")),
               smooth=False, kinks=(Kink(0.0, 0.0, "as jax.nn; Bertoin et al. 2021"),),
               keeps_int=True, reference="Nair & Hinton 2010"))


def _relu6_parts(x: Array) -> tuple[Array, Array]:
    return jnp.clip(x, 0.0, 6.0), (x > 0) & (x < 6)


_relu6 = _math.elementwise(_relu6_parts)


def relu6(x: ArrayLike) -> Array:
    r"""ReLU capped at 6.

    .. math::
        \mathrm{relu6}(x) = \min(\max(x, 0), 6), \qquad \mathrm{relu6}'(x) = [0 < x < 6]

    Convention: the derivative is 0 at both kinks, :math:`x = 0` and :math:`x = 6`
    (as ``jax.nn``).

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x`` (integers promote to float).

    Examples:
      >>> ja.relu6(jnp.array([-1.0, 3.0, 7.0]))
      Array([0., 3., 6.], dtype=float32)
    """
    return _core.apply(_relu6, _core.as_array(x, "relu6"))


register(Entry("relu6", relu6, "elementwise", r"\min(\max(x,0),6)", r"[0<x<6]", range=(0.0, 6.0),
               smooth=False, kinks=(Kink(0.0, 0.0, "as jax.nn"), Kink(6.0, 0.0, "as jax.nn")),
               reference="Krizhevsky 2010; Howard et al. 2017, arXiv:1704.04861"))


def _leaky_relu_parts(x: Array, slope: Array) -> tuple[Array, Array, Array]:
    pos = x >= 0  # the derivative's side: 1 at 0, as jax.nn
    gain = jnp.where(pos, 1.0, slope)
    # The value selects on x > 0: a subnormal x may compare as 0 (denormals-are-zero)
    # and must then not pass through unscaled. (x * gain is no remedy: the compiler may
    # rewrite x * select(c, 1, s) as select(c, x, x * s).)
    return jnp.where(x > 0, x, x * slope), gain, jnp.where(pos, 0.0, x)


_leaky_relu = _math.elementwise(_leaky_relu_parts)


def leaky_relu(x: ArrayLike, negative_slope: ArrayLike = 1e-2) -> Array:
    r"""Leaky ReLU.

    .. math::
        \mathrm{leaky\_relu}(x) = \begin{cases} x & x \ge 0 \\ \alpha x & x < 0 \end{cases},
        \qquad \alpha = \texttt{negative\_slope}

    Convention: the derivative at 0 is 1 (the :math:`x \ge 0` piece, as ``jax.nn``).

    Args:
      x: input array.
      negative_slope: :math:`\alpha`, scalar or array broadcastable to ``x``
        (default 0.01); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.leaky_relu(jnp.array([-2.0, 0.0, 2.0]), negative_slope=0.1)
      Array([-0.2,  0. ,  2. ], dtype=float32)
    """
    arr = _core.as_array(x, "leaky_relu")
    _core.as_param(negative_slope, "leaky_relu", "negative_slope")
    return _core.apply(_leaky_relu, arr, negative_slope)


register(Entry("leaky_relu", leaky_relu, "elementwise",
               r"\begin{cases}x&x\ge0\\ \alpha x&x<0\end{cases}", r"[x\ge0]+\alpha[x<0]",
               params=(Param("negative_slope", 0.01, "slope for x < 0"),), smooth=False,
               kinks=(Kink(0.0, 1.0, "as jax.nn"),), reference="Maas et al. 2013"))


def _hard_tanh_parts(x: Array, lo: Array, hi: Array) -> tuple[Array, ...]:
    # The bound partials are NaN at NaN x (not masks, which can only say 0 there).
    nan = jnp.where(jnp.isnan(x), x, 0.0)
    return (
        jnp.clip(x, lo, hi),
        (x >= lo) & (x <= hi),
        jnp.where(x < lo, 1.0, nan),
        jnp.where(x > hi, 1.0, nan),
    )


_hard_tanh = _math.elementwise(_hard_tanh_parts)


def hard_tanh(x: ArrayLike, *, min_val: ArrayLike = -1.0, max_val: ArrayLike = 1.0) -> Array:
    r"""Hard tanh: :math:`x` clipped to :math:`[\text{min\_val}, \text{max\_val}]`.

    .. math::
        \mathrm{hard\_tanh}(x) = \min(\max(x, a), b),
        \qquad \mathrm{hard\_tanh}'(x) = [a \le x \le b]

    Convention: the derivative at the kinks :math:`x = a` and :math:`x = b` is 1
    (the closed interval, as ``jax.nn``). The derivatives in the bounds,
    :math:`[x < a]` and :math:`[x > b]`, are NaN at a NaN input. Integer inputs stay
    integer when both bounds are whole numbers.

    Args:
      x: input array.
      min_val: lower bound :math:`a` (default -1, torch's name).
      max_val: upper bound :math:`b > a` (default 1).

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``min_val >= max_val``.

    Examples:
      >>> ja.hard_tanh(jnp.array([-2.0, 0.5, 2.0]))
      Array([-1. ,  0.5,  1. ], dtype=float32)
      >>> ja.hard_tanh(jnp.array([-3, 0, 3]), min_val=-2, max_val=2)
      Array([-2,  0,  2], dtype=int32)
    """
    _core.as_param(min_val, "hard_tanh", "min_val")
    _core.as_param(max_val, "hard_tanh", "max_val")
    _core.check(lambda a, b: a < b, "hard_tanh", "min_val", "below max_val", min_val, max_val)
    bounds = [_core.concrete(v) for v in (min_val, max_val)]
    whole = all(b is not None and np.all(np.mod(b, 1) == 0) for b in bounds)
    arr = _core.as_array(x, "hard_tanh", keep_int=whole)
    return _core.apply(_hard_tanh, arr, min_val, max_val)


register(Entry("hard_tanh", hard_tanh, "elementwise", r"\min(\max(x,a),b)", r"[a\le x\le b]",
               params=(Param("min_val", -1.0, "lower bound"), Param("max_val", 1.0, "upper bound")),
               range=(-1.0, 1.0), smooth=False, keeps_int=True,
               kinks=(Kink(-1.0, 1.0, "closed interval, as jax.nn"),
                      Kink(1.0, 1.0, "closed interval, as jax.nn")),
               reference="Collobert 2004; torch.nn.Hardtanh"))
