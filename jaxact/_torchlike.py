"""Activations users know from torch, Keras and TensorFlow: the exponential, the
randomised, parametric and concatenated ReLUs and Keras' general ``relu``.

Each piecewise derivative is written out, so the convention named in the docstring
is the rule (autodiff of ``where``/``clip`` would pick one by accident).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.custom_derivatives import SymbolicZero
from jax.typing import ArrayLike

from jaxact import _core, _math
from jaxact._piecewise import _leaky_relu
from jaxact._registry import Entry, Kink, Param, register

_INF = float("inf")


def whole(*values: Any) -> bool:
    """All values concrete whole numbers: integer inputs may then stay integer."""
    arrays = [_core.concrete(v) for v in values]
    return all(a is not None and np.all(np.mod(a, 1) == 0) for a in arrays)


# exp(x) = exp(x - HI) * exp(HI) above x = 80: XLA's float32 exp is up to 5 ulp off just
# below its overflow (x > 88.5); HI = 8 ln 2 rounded to a multiple of 2^-16, so x - HI is
# exact, and exp(HI) (rounded once) is the only other error.
_EXP_HI = round(8 * math.log(2) * 2**16) / 2**16
_EXP_K = math.exp(_EXP_HI)


def _exponential_parts(x: Array) -> tuple[Array, Array]:
    high = x > 80.0
    y = jnp.where(high, jnp.exp(jnp.where(high, x - _EXP_HI, 0.0)) * _EXP_K, jnp.exp(x))
    return y, y


_exponential = _math.elementwise(_exponential_parts, recompute=False)


def exponential(x: ArrayLike) -> Array:
    r"""Exponential activation (``keras.activations.exponential``).

    .. math::
        f(x) = e^x, \qquad f'(x) = e^x

    Within 2 ulp over the whole float32 range (XLA's ``exp`` is 5 ulp off just below
    the overflow at :math:`x \approx 88.72`); overflows to ``inf``, underflows to 0.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.exponential(jnp.array([-1.0, 0.0, 1.0, 100.0]))
      Array([0.36787945, 1.        , 2.7182817 ,        inf], dtype=float32)
    """
    return _core.apply(_exponential, _core.as_array(x, "exponential"))


register(Entry("exponential", exponential, "elementwise", r"e^x", r"e^x", range=(0.0, _INF),
               source="keras", reference="keras.activations.exponential"))


# --- randomised, parametric and concatenated ReLUs -----------------------------------


def _check_key(key: Any) -> None:
    is_key = isinstance(key, jax.Array) and (
        (jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape == ())
        or (key.dtype == jnp.uint32 and key.shape == (2,)))
    if not is_key:
        raise TypeError("rrelu: key must be one PRNG key (jax.random.key(seed)), got "
                        f"{type(key).__name__} {getattr(key, 'dtype', '')}")


def rrelu(x: ArrayLike, *, lower: ArrayLike = 1.0 / 8, upper: ArrayLike = 1.0 / 3,
          key: Array | None = None, training: bool = False) -> Array:
    r"""Randomised leaky ReLU (``torch.nn.RReLU``).

    .. math::
        f(x) = \begin{cases} x & x \ge 0 \\ a\,x & x < 0 \end{cases},
        \qquad f'(x) = [x \ge 0] + a\,[x < 0]

    with one slope :math:`a \sim U[\text{lower}, \text{upper})` per element, drawn
    from ``key``, when ``training``; otherwise the fixed slope
    :math:`a = (\text{lower} + \text{upper})/2` (torch's eval mode), i.e.
    :func:`leaky_relu`. Deterministic given ``key``: the same key gives the same
    slopes. The slopes are drawn in float32 for bfloat16/float16 inputs (the compute
    dtype), in float64 for float64 ones.

    Convention: :math:`f'(0) = 1` (the :math:`x \ge 0` piece, as :func:`leaky_relu`;
    torch uses the slope there).

    Args:
      x: input array.
      lower: lower end of the slope distribution (default 1/8).
      upper: upper end, ``>= lower`` (default 1/3).
      key: a PRNG key (``jax.random.key(seed)``); required when ``training``,
        ignored otherwise.
      training: draw random slopes (static Python bool, default False).

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``lower > upper``, or ``training`` without a ``key``.
      TypeError: if ``key`` is not a PRNG key or ``training`` not a bool.

    Examples:
      >>> ja.rrelu(jnp.array([-2.0, 3.0]))  # eval mode: slope 11/48
      Array([-0.4583333,  3.       ], dtype=float32)
      >>> y = ja.rrelu(-jnp.ones(4), key=jax.random.key(0), training=True)
      >>> bool(jnp.all((-y >= 1 / 8) & (-y < 1 / 3)))
      True

    References:
      Xu et al., Empirical Evaluation of Rectified Activations in Convolutional
      Network, arXiv:1505.00853.
    """
    if not isinstance(training, bool):
        raise TypeError(f"rrelu: training must be a bool, got {type(training).__name__}")
    _core.as_param(lower, "rrelu", "lower")
    _core.as_param(upper, "rrelu", "upper")
    _core.check(lambda lo, hi: lo <= hi, "rrelu", "lower", "<= upper", lower, upper)
    arr = _core.as_array(x, "rrelu")
    if not training:
        return _core.apply(_leaky_relu, arr, (lower + upper) / 2)
    if key is None:
        raise ValueError("rrelu: training=True draws random slopes and needs a PRNG key, "
                         "e.g. key=jax.random.key(0)")
    _check_key(key)
    slopes = jax.random.uniform(key, arr.shape, _core.compute_dtype(arr.dtype), lower, upper)
    return _core.apply(_leaky_relu, arr, slopes)


register(Entry("rrelu", rrelu, "elementwise", r"\begin{cases}x&x\ge0\\ a x&x<0\end{cases}",
               r"[x\ge0]+a[x<0]",
               params=(Param("lower", 1.0 / 8, "lowest slope"),
                       Param("upper", 1.0 / 3, "highest slope"),
                       Param("key", None, "PRNG key for the training-mode slopes"),
                       Param("training", False, "random slopes (else their mean)")),
               smooth=False, kinks=(Kink(0.0, 1.0, "x >= 0 piece, as leaky_relu"),),
               source="torch", reference="Xu et al. 2015, arXiv:1505.00853"))


@jax.custom_jvp
def _prelu(x: Array, alpha: Array) -> Array:
    # x > 0 (as in leaky_relu): a subnormal x may compare as 0 and must not pass unscaled
    return jnp.where(x > 0, x, alpha * x)


def _prelu_jvp(primals: tuple[Array, Array], tangents: tuple[Any, Any]) -> tuple[Array, Array]:
    # Only the mask x >= 0 (and alpha, small) is saved when alpha is a constant; with a
    # trainable alpha also x itself. d/dalpha = x [x < 0] is exactly 0 at x = 0.
    x, alpha = primals
    tx, ta = tangents
    pos = x >= 0
    y = _prelu(x, alpha)
    out = jnp.zeros_like(y)
    if not isinstance(tx, SymbolicZero):
        out = jnp.where(pos, tx, alpha * tx)
    if not isinstance(ta, SymbolicZero):
        out = out + jnp.where(pos, 0.0, x) * ta
    return y, out


_prelu.defjvp(_prelu_jvp, symbolic_zeros=True)


def prelu(x: ArrayLike, alpha: ArrayLike, *, axis: int | None = None) -> Array:
    r"""Parametric ReLU with a learnable slope (``torch.nn.PReLU``, Keras ``PReLU``).

    .. math::
        f(x) = \begin{cases} x & x \ge 0 \\ \alpha x & x < 0 \end{cases},
        \qquad \partial_x f = [x \ge 0] + \alpha\,[x < 0],
        \qquad \partial_\alpha f = x\,[x < 0]

    Convention: :math:`\partial_x f(0) = 1` (the :math:`x \ge 0` piece, as
    :func:`leaky_relu`; torch uses :math:`\alpha` there), and
    :math:`\partial_\alpha f(0) = 0` exactly, as on both sides. Differentiable in
    ``x`` and ``alpha``; a per-channel ``alpha`` receives the sum over the other axes.

    Args:
      x: input array.
      alpha: the slope: a scalar, or with ``axis=None`` any array that broadcasts to
        ``x``'s shape without enlarging it (Keras' ``x.shape[1:]`` layout), or with
        ``axis`` given a vector of one slope per entry of that axis (torch's layout is
        ``axis=1``), or of length 1.
      axis: the channel axis of a per-channel ``alpha`` (static int), or None.

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``alpha``'s shape does not fit ``x`` (and ``axis``), or ``axis``
        is out of range.

    Examples:
      >>> ja.prelu(jnp.array([-2.0, 0.0, 3.0]), 0.25)
      Array([-0.5,  0. ,  3. ], dtype=float32)
      >>> ja.prelu(-jnp.ones((2, 3)), jnp.array([0.1, 0.2, 0.3]), axis=1)
      Array([[-0.1, -0.2, -0.3],
             [-0.1, -0.2, -0.3]], dtype=float32)
      >>> jax.grad(lambda a: ja.prelu(jnp.array([-2.0, 0.0, 3.0]), a).sum())(0.25)
      Array(-2., dtype=float32, weak_type=True)

    References:
      He et al., Delving Deep into Rectifiers, arXiv:1502.01852.
    """
    arr = _core.as_array(x, "prelu")
    _core.as_param(alpha, "prelu", "alpha")
    shape = tuple(jnp.shape(alpha))
    if axis is None:
        try:
            fits = np.broadcast_shapes(shape, arr.shape) == arr.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"prelu: alpha of shape {shape} does not broadcast to x's shape "
                             f"{arr.shape}; pass axis= for one alpha per channel")
    else:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"prelu: axis must be an int or None, got {type(axis).__name__}")
        (ax,) = _core.normalize_axis(axis, arr.ndim, "prelu")
        size = math.prod(shape)
        if len(shape) > 1 or size not in (1, arr.shape[ax]):
            raise ValueError(f"prelu: alpha must be a scalar or a vector of one slope per "
                             f"entry of axis {axis} (size {arr.shape[ax]}), got shape {shape}")
        if shape:
            alpha = jnp.reshape(alpha, tuple(size if i == ax else 1 for i in range(arr.ndim)))
    return _core.apply(_prelu, arr, alpha)


register(Entry("prelu", prelu, "elementwise",
               r"\begin{cases}x&x\ge0\\ \alpha x&x<0\end{cases}", r"[x\ge0]+\alpha[x<0]",
               params=(Param("axis", None, "channel axis of a per-channel alpha"),),
               smooth=False, kinks=(Kink(0.0, 1.0, "x >= 0 piece, as leaky_relu"),),
               source="torch", sample={"alpha": 0.25},
               reference="He et al. 2015, arXiv:1502.01852"))


def _crelu_value(x: Array, axis: int) -> Array:
    return jnp.concatenate([jnp.maximum(x, 0), jnp.maximum(-x, 0)], axis)


def _crelu_jvp(axis: int, primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    # Two boolean masks are the only residuals (half the bytes of x in float32).
    (x,), (tx,) = primals, tangents
    return _crelu_value(x, axis), jnp.concatenate(
        [jnp.where(x > 0, tx, 0.0), jnp.where(x < 0, -tx, 0.0)], axis)


_crelu = jax.custom_jvp(_crelu_value, nondiff_argnums=(1,))
_crelu.defjvp(_crelu_jvp)


def _crelu_apply(x: Array, *, axis: int) -> Array:
    return _crelu(x, axis)


def crelu(x: ArrayLike, *, axis: int = -1) -> Array:
    r"""Concatenated ReLU (``tf.nn.crelu``): the positive and negative parts, side by side.

    .. math::
        \mathrm{crelu}(x) = \big[\mathrm{relu}(x),\ \mathrm{relu}(-x)\big]
        \text{ concatenated along } \texttt{axis}

    with derivatives :math:`[x > 0]` and :math:`-[x < 0]`. Convention: both are 0 at
    :math:`x = 0`, as :func:`relu`. Integer inputs stay integer.

    Args:
      x: input array, at least 1-D.
      axis: the axis along which the halves are concatenated (static int, default -1).

    Returns:
      An array of ``x``'s dtype with ``axis`` doubled.

    Raises:
      ValueError: if ``axis`` is out of range (a scalar has no axis).

    Examples:
      >>> ja.crelu(jnp.array([[-1.0, 2.0]]))
      Array([[0., 2., 1., 0.]], dtype=float32)

    References:
      Shang et al., Understanding and Improving Convolutional Neural Networks via
      Concatenated Rectified Linear Units, arXiv:1603.05201.
    """
    arr = _core.as_array(x, "crelu", keep_int=True)
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"crelu: axis must be an int, got {type(axis).__name__}")
    if arr.ndim == 0:
        raise ValueError("crelu: x is a scalar; axis needs an array of at least 1 dimension")
    (ax,) = _core.normalize_axis(axis, arr.ndim, "crelu")
    return _core.apply(_crelu_apply, arr, axis=ax)


register(Entry("crelu", crelu, "concatenated", r"[\mathrm{relu}(x),\ \mathrm{relu}(-x)]",
               r"([x>0],\ -[x<0])", params=(Param("axis", -1, "axis that is doubled"),),
               range=(0.0, _INF), monotonic=False, smooth=False,
               kinks=(Kink(0.0, 0.0, "as relu"),), keeps_int=True, source="tf",
               reference="Shang et al. 2016, arXiv:1603.05201"))


# --- Keras' general relu ----------------------------------------------------------------


def _relu_low(x: Array, slope: Array, t: Array) -> tuple[Array, Array]:
    d = x - t  # exact near the threshold (Sterbenz)
    return jnp.where(slope == 0, 0.0, slope * d), d  # 0, not 0 * -inf = nan, for slope 0


def _relu_general_parts(x: Array, slope: Array, t: Array) -> tuple[Array, ...]:
    above = x > t
    low, d = _relu_low(x, slope, t)
    y = jnp.where(jnp.isnan(x), x, jnp.where(above, x, low))
    return (y, jnp.where(above, 1.0, slope), jnp.where(above, 0.0, d),
            jnp.where(above, 0.0, -slope))


def _relu_general_max_parts(x: Array, slope: Array, t: Array, m: Array) -> tuple[Array, ...]:
    above = x > t
    low, d = _relu_low(x, slope, t)
    # Keras clips the part above the threshold to [0, m]: for t < 0 that zeroes (t, 0).
    y = jnp.where(jnp.isnan(x), x, jnp.where(above, jnp.clip(x, 0, m), low))
    inside = above & (x > 0) & (x < m)
    return (y, jnp.where(inside, 1.0, jnp.where(above, 0.0, slope)), jnp.where(above, 0.0, d),
            jnp.where(above, 0.0, -slope), jnp.where(above & (x >= m), 1.0, 0.0))


_relu_general = _math.elementwise(_relu_general_parts)
_relu_general_max = _math.elementwise(_relu_general_max_parts)


def relu_general(x: ArrayLike, *, negative_slope: ArrayLike = 0.0,
                 max_value: ArrayLike | None = None, threshold: ArrayLike = 0.0) -> Array:
    r"""Keras' general ReLU (``keras.activations.relu``): leaky, capped, thresholded.

    With slope :math:`s`, threshold :math:`t` and cap :math:`m`, exactly as Keras
    computes it (``clip(x [x > t], 0, m) - s relu(t - x)``):

    .. math::
        f(x) = \begin{cases} s\,(x - t) & x \le t \\
        \min(\max(x, 0), m) & x > t \end{cases},
        \qquad f'(x) = s\,[x \le t] + [x > t]\,[0 < x < m]

    Without ``max_value`` the upper piece is :math:`x` itself (also below 0 when
    :math:`t < 0`); with it, Keras' clip to :math:`[0, m]` makes :math:`f = 0` on
    :math:`(t, 0)` when :math:`t < 0`. :math:`f` jumps at :math:`t` unless
    :math:`t = 0` (or :math:`t < 0` with a cap).

    Conventions: :math:`f'(t) = s` (the :math:`x \le t` piece, so the defaults give
    :func:`relu` with :math:`\mathrm{relu}'(0) = 0`, and :math:`t = 0, m = \infty` the
    leaky ReLU with torch's and TensorFlow's :math:`f'(0) = s`), :math:`f'(m) = 0`
    (the cap, as :func:`relu6`), and :math:`f'(0) = 0` in the clipped case
    :math:`t < 0`. The partials in :math:`s, t, m` are :math:`\min(x - t, 0)`,
    :math:`-s[x \le t]` and :math:`[x > t][x \ge m]`.

    Args:
      x: input array.
      negative_slope: :math:`s`, slope below the threshold (default 0).
      max_value: :math:`m \ge 0`, the cap, or None for no cap (Python-level switch).
      threshold: :math:`t` (default 0).

    Returns:
      Same shape and dtype as ``x``; integer inputs stay integer when all the
      parameters are whole numbers.

    Raises:
      ValueError: if ``max_value < 0``.

    Examples:
      >>> x = jnp.array([-10.0, -5.0, 0.0, 5.0, 10.0])
      >>> ja.relu_general(x, negative_slope=0.5)
      Array([-5. , -2.5,  0. ,  5. , 10. ], dtype=float32)
      >>> ja.relu_general(x, max_value=5.0)
      Array([0., 0., 0., 5., 5.], dtype=float32)
      >>> ja.relu_general(x, threshold=5.0)
      Array([ 0.,  0.,  0.,  0., 10.], dtype=float32)
    """
    params: list[ArrayLike] = [negative_slope, threshold]
    _core.as_param(negative_slope, "relu_general", "negative_slope")
    _core.as_param(threshold, "relu_general", "threshold")
    if max_value is not None:
        _core.as_param(max_value, "relu_general", "max_value")
        _core.check(lambda m: m >= 0, "relu_general", "max_value", ">= 0", max_value)
        params.append(max_value)
    arr = _core.as_array(x, "relu_general", keep_int=whole(*params))
    kernel = _relu_general if max_value is None else _relu_general_max
    return _core.apply(kernel, arr, *params)


register(Entry("relu_general", relu_general, "elementwise",
               r"\begin{cases}s(x-t)&x\le t\\ \min(\max(x,0),m)&x>t\end{cases}",
               r"s[x\le t]+[x>t][0<x<m]",
               params=(Param("negative_slope", 0.0, "slope below the threshold"),
                       Param("max_value", None, "cap, >= 0 (None: no cap)"),
                       Param("threshold", 0.0, "where the linear part starts")),
               range=(0.0, _INF), smooth=False, keeps_int=True,
               kinks=(Kink(0.0, 0.0, "x <= t piece (slope s = 0), as relu"),),
               source="keras", reference="keras.activations.relu"))
