"""Accurate float32 building blocks: each returns values *and* derivatives.

XLA's own float32 ``expm1`` (about 5 ulp) and ``tanh`` (about 4 ulp) miss jaxact's
bar, and ``1 - tanh**2`` or ``sigmoid*(1-sigmoid)`` cancel to 0 in the tails; the
forms below keep every intermediate well conditioned. ``elementwise`` turns a
"parts" function ``(x, *params) -> (y, dy/dx, dy/dp...)`` into a ``custom_jvp``
whose rules are the returned partials, so forward mode, reverse mode and second
derivatives (by differentiating the parts) all share one formula.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.custom_derivatives import SymbolicZero

from jaxact import _core

Parts = Callable[..., tuple[Array, ...]]


def elementwise(parts: Parts, *, recompute: bool = True,
                value: Callable[..., Array] | None = None) -> jax.custom_jvp:
    """A ``custom_jvp`` function of arrays whose partials come from ``parts``.

    The rule is ``sum(partial_i * tangent_i)`` (a boolean partial selects the tangent)
    over the arguments actually being
    differentiated (symbolic zeros are skipped, so a constant hyper-parameter costs
    nothing): each partial is computed in the forward pass, and for the usual
    derivative in ``x`` alone it is the only full-size value saved for backward.

    ``recompute``: where a training step needs both the value and the gradient, XLA's
    CPU backend writes out every expensive intermediate the two share (an exp, a
    division) and reads it back, an extra pass over memory each. With ``True`` the
    partials are computed, on CPU, from ``x`` behind an optimization barrier, which XLA
    cannot merge with the value's: one loop writes the value, one the gradient
    (value and gradient at 4096x1024: sigmoid 0.73x, silu 0.65x, squareplus 0.44x of
    the shared form). ``False`` for the functions whose value is most of their
    derivative's work (a log, e^x itself), where computing it twice costs more than
    the pass it saves. Same arithmetic either way. Not on other platforms (unmeasured
    there): XLA's GPU pipeline removes barriers only after fusion, so one would keep it
    from fusing the two loops into one kernel with two outputs.

    ``value``: the value alone, for the primal and (with ``recompute``) the rule's value,
    where ``parts`` would compute it along with more than XLA removes (see ``_aptx``).
    """

    def primal(*args: Array) -> Array:
        return parts(*args)[0] if value is None else value(*args)

    def rule(primals: tuple[Array, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
        if recompute:
            out = primal(*primals)
            _, *partials = parts(*_hidden(primals, jnp.size(out)))
        else:
            out, *partials = parts(*primals)
        terms = [_times(_written(d) if jnp.size(a) < jnp.size(out) else d, t)
                 for d, t, a in zip(partials, tangents, primals, strict=False)
                 if not isinstance(t, SymbolicZero)]
        return out, functools.reduce(operator.add, terms) if terms else jnp.zeros_like(out)

    fn = jax.custom_jvp(primal)
    fn.defjvp(rule, symbolic_zeros=True)
    return fn


def _hidden(args: tuple[Array, ...], size: int) -> list[Array]:
    """``args``, the full-size ones behind an optimization barrier on CPU (constant
    hyper-parameters stay visible, so XLA still folds them)."""
    full = [i for i, a in enumerate(args) if jnp.size(a) == size]
    hidden = jax.lax.platform_dependent(
        *(args[i] for i in full),
        cpu=lambda *a: jax.lax.optimization_barrier(a), default=lambda *a: a)
    out = list(args)
    for i, a in zip(full, hidden, strict=True):
        out[i] = a
    return out


def _written(partial: Array) -> Array:
    """``partial`` itself, ended by a select (NaN stays NaN).

    The partial in a broadcast parameter is summed over the whole array in reverse mode.
    XLA's CPU backend would pull the partial's whole computation into that reduction,
    which it runs op by op and, sharing operands with the other outputs, after writing
    several of them out (silu with a scalar beta: 30 ms for the gradient in x and beta
    at 4096x1024, against 3 ms for x alone). A select is an operation the reduction
    cannot take in: the partial is computed once in a plain loop and the sum reads it.
    """
    if partial.dtype == jnp.bool_:
        return partial
    return jnp.where(partial == partial, partial, jnp.nan)


def _times(partial: Array, tangent: Array) -> Array:
    # A boolean partial (0 or 1, piecewise-linear functions) is saved as a 1-byte mask.
    if partial.dtype == jnp.bool_:
        return jnp.where(partial, tangent, jnp.zeros_like(tangent))
    return partial * tangent


def exp_split(x: Array) -> tuple[Array, Array]:
    """``(m, k)`` with ``exp(x) == m * k``, ``m`` normal down to x = -148.

    exp(x) is subnormal (flushed to 0 by XLA) below x = -87.3, but products such as
    x e^x or alpha e^x are still normal there; computing ``(c * m) * k`` keeps them.
    The shift by 61 is exact for the x where it applies, and k = e^-61 is within 0.05
    ulp in float32 (e^-64 was 0.51 ulp off, which took serf's tail to 4.2 ulp).
    """
    return jnp.exp(jnp.where(x < -61.0, x + 61.0, x)), tail_scale(x)


def tail_scale(x: Array) -> Array:
    """``exp_split``'s scale k: e^-61 below x = -61, else 1 (one select on x)."""
    return jnp.where(x < -61.0, math.exp(-61.0), 1.0)


_E58 = math.exp(-58.0)


def exp_split_deep(x: Array, shift: Array | float = 0.0) -> tuple[Array, Array, Array]:
    """``(m, k1, k2)`` with ``exp(x + shift) == (m * k1) * k2`` for x + shift <= 0, ``m``
    normal down to x + shift = -203.

    For products with a factor as large as float32 allows (a GLU value times its
    gate), normal down to x = -190. From x = -64 (and again from -128) the exponent is
    shifted by 58, exactly, so ``m`` stays below e^-6: a factor up to ~400 times it
    cannot overflow before the scales e^-58 (each rounded to float32, half an ulp)
    are applied. ``shift`` (a whole number) goes into that one sum, not into x first:
    pelu's f' takes e^{t + n} with (a/b) e^-n where a/b overflows.
    """
    one, two = x < -64.0 - shift, x < -128.0 - shift
    m = jnp.exp(x + jnp.where(two, 116.0 + shift, jnp.where(one, 58.0 + shift, shift)))
    return m, jnp.where(one, _E58, 1.0), jnp.where(two, _E58, 1.0)


def sigmoid_from(p: Array, e: Array) -> tuple[Array, Array, Array]:
    """``(sigmoid(p), sigmoid(-p), sigmoid'(p))`` from ``e = exp(-|p|)``; no cancellation."""
    r = 1.0 / (1.0 + e)
    er = e * r
    pos = p >= 0
    return jnp.where(pos, r, er), jnp.where(pos, er, r), er * r


def far(x: Array) -> float:
    """|x| beyond which e^-|x| (times any moderate factor) underflows: 200 for float32,
    800 for float64. Clipping there keeps inf * 0 out without changing any output."""
    return 800.0 if x.dtype == jnp.float64 else 200.0


def _exp_cap(dtype: Any) -> float:
    """The largest whole t with e^t finite in ``dtype``: 88 (float32), 709 (float64)."""
    return float(math.floor(math.log(float(jnp.finfo(dtype).max))))


def sigmoid_parts(x: Array) -> tuple[Array, Array]:
    """1 / (1 + e^-x), as jax.nn, and sigmoid' = e^-x r^2 (no 1 - sigmoid).

    The exponent is capped (88 in float32, 709 in float64), so e^-x stays finite: no
    inf * 0 in the derivative, and no inf / inf in its derivative (jax.hessian). Beyond
    the cap both outputs are set to 0 (their true values are subnormal or 0): the capped
    1 / (1 + e^88) = 6e-39 is flushed to 0 on a CPU but kept on a GPU, where XLA does not
    flush subnormals (10^6 ulp wrong at every x below -88). sigmoid itself uses this in
    float64 only; its float32 kernels are ``_expm1.sigmoid_value`` and ``sigmoid_slope``.
    """
    cap = _exp_cap(x.dtype)
    e = jnp.exp(jnp.minimum(-x, cap))
    r = jnp.where(-x > cap, 0.0, 1.0 / (1.0 + e))
    return r, (e * r) * r


def softplus_parts(x: Array) -> tuple[Array, Array]:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|); derivative sigmoid(x)."""
    e = jnp.exp(-jnp.abs(x))
    y, _, _ = sigmoid_from(x, e)
    return jnp.maximum(x, 0.0) + jnp.log1p(e), y


# tanh(x) = x + x^3 P(x^2) on |x| < 0.55 (tests/reference/fit_tanh.py, 0.7 ulp).
_TANH_P = (
    -0.3333333134651184,
    0.13333295285701752,
    -0.05395980924367905,
    0.021783875301480293,
    -0.00841713696718216,
    0.002399404300376773,
)


def polyval(coeffs: tuple[float, ...], z: Array) -> Array:
    """Horner evaluation, ``coeffs`` lowest degree first."""
    acc = jnp.full_like(z, coeffs[-1])
    for c in coeffs[-2::-1]:
        acc = acc * z + c
    return acc


@jax.custom_jvp
def _tanh_h(a: Array) -> Array:
    """4 / (1 + e^{2a}) = 2 (1 - tanh a) for a >= 0."""
    return 4.0 / (1.0 + jnp.exp(2.0 * a))


@_tanh_h.defjvp
def _tanh_h_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    # h' = -2 h (1 - h/4), written in h: autodiff of the formula divides an overflowed
    # e^{2a} by its square beyond a = 44.4 (inf / inf: NaN in jax.hessian of tanh).
    (a,), (da,) = primals, tangents
    h = _tanh_h(a)
    return h, (-2.0 * h * (1.0 - 0.25 * h)) * da


def tanh_parts(x: Array) -> tuple[Array, Array]:
    """tanh and sech^2 from one exp and one division: h = 4 / (1 + e^{2|x|}).

    1 - tanh|x| = h/2 and sech^2 = h (1 - h/4), neither a cancelling difference
    (1 - t^2 would be 0 beyond |x| = 9); h stays normal until the true sech^2 is
    subnormal (e^{2|x|} overflows exactly there, giving h = 0; ``_tanh_h``'s rule keeps
    that overflow out of derivatives).
    """
    a = jnp.abs(x)
    h = _tanh_h(a)
    q = 0.5 * h
    # capped where the polynomial is not used: P(x^2) overflows for large x, and the
    # select's unused branch still enters reverse mode (0 * inf = NaN in jax.hessian)
    z = jnp.minimum(x * x, 0.3025)
    # on |x| with the sign restored last, so that tanh(-0) = -0 (x + x (z P) would be +0)
    small = a + a * (z * polyval(_TANH_P, z))
    t = jnp.copysign(jnp.where(a < 0.55, small, 1.0 - q), x)
    if x.dtype == jnp.float64:  # the polynomial is float32's: XLA's tanh below 0.55 (its
        t = jnp.where(a < 0.55, jnp.tanh(x), t)  # derivative, 1 - t^2, cancels beyond)
    return t, h * (1.0 - 0.25 * h)


# expm1(x) = x + x^2/2 + x^3 P(x) on |x| <= 0.7 (tests/reference/fit_expm1.py, 0.94 ulp);
# beyond, exp(x) - 1 loses at most ~2 ulp (|result| >= 0.5 there).
_EXPM1_P = (
    0.1666666716337204,
    0.041666675359010696,
    0.008333326317369938,
    0.0013888030080124736,
    0.00019843214249704033,
    2.5078183170990087e-05,
    2.7509108804224525e-06,
)


def expm1_small(x: Array) -> Array:
    """e^x - 1 for |x| <= 0.7 (float32 polynomial; XLA's own for float64)."""
    if x.dtype == jnp.float64:  # the polynomial is float32's; XLA's float64 expm1 is fine
        return jnp.expm1(x)
    return x + x * (0.5 * x + x * x * polyval(_EXPM1_P, x))  # x * (...) keeps -0 as -0


def log1p(v: Array) -> Array:
    """log(1 + v) for v > -1 to 1.6 ulp, 0.7 ulp below |v| = 1/4.

    XLA's float32 log1p is within 0.7 ulp for |v| < 1/4 but 2.5 ulp off on [1/4, 1].
    There 1 + v is formed exactly as u + lo (two_sum) and log(u) + lo/u taken (1.6 ulp);
    the 1 is opaque: XLA would otherwise fold (1 + v) - 1 back into v and lose the
    compensation. (This pair alone, 1.1-1.5 ulp below 1/4 too, put serf at 4.3 ulp and
    pserf at 5.4.)
    """
    u, lo = _core.two_sum(_core.opaque(1.0, v), v)
    return jnp.where(jnp.abs(v) < 0.25, jnp.log1p(v), jnp.log(u) + lo / u)


def _expm1_value(x: Array) -> Array:
    small = jnp.abs(x) <= 0.7
    return jnp.where(small, expm1_small(jnp.where(small, x, 0.0)), jnp.exp(x) - 1.0)


@jax.custom_jvp
def expm1(x: Array) -> Array:
    """e^x - 1 to about 2 ulp (XLA's float32 expm1 is off by up to 5 ulp)."""
    return _expm1_value(x)


expm1.defjvps(lambda g, _, x: jnp.exp(x) * g)


def softplus_beta_parts(x: Array, beta: Array) -> tuple[Array, Array, Array]:
    """softplus(beta x) / beta with its partials in x and beta.

    max(x, 0) is taken on x itself (no overflow of beta*x), and exp(-|beta x|) carries
    the product's rounding error, which the tail e^{beta x}/beta would amplify. Where
    e^{-|beta x|} is flushed (|beta x| > 87) the tail and the beta-partial are not, for
    beta < 1: both are divided by beta before ``exp_split_deep``'s scales are applied
    (beta = 1e-20 lost every value below 1e-22, and beta = 1 its partial beyond 87).
    """
    p, err = _core.two_prod(beta, x)
    err = jnp.where(jnp.isfinite(err), err, 0.0)  # huge factors: the tail underflows anyway
    m, k1, k2 = exp_split_deep(-jnp.abs(p))
    m = m * (1.0 - jnp.sign(p) * err)
    e = (m * k1) * k2
    sig, sig_neg, _ = sigmoid_from(p, e)
    deep = k1 < 1.0  # e < e^-64: log1p(e) = e and sigmoid(-|p|) = e
    tail = ((jnp.where(deep, m, jnp.log1p(e)) / beta) * k1) * k2
    y = jnp.maximum(x, 0.0) + tail
    xs = jnp.where(jnp.isfinite(x), x, 0.0)
    # d/dbeta = (x sigmoid(p) - y) / beta, written without cancelling x - x; deep, it is
    # -(|p| + 1) e / beta^2 (|p| capped: m = 0 there, x = +-inf), both divisions before
    # the scales unless beta^2 would overflow the quotient
    lin = jnp.minimum(jnp.abs(p), 300.0) + 1.0
    early = jnp.where(beta < 2.0**-50, k1, 1.0)
    dbeta = jnp.where(deep, -(((((lin * m) / beta) * early) / beta) * (k1 / early)) * k2,
                      (jnp.where(p >= 0, -xs * sig_neg, xs * sig) - tail) / beta)
    return y, sig, dbeta


def silu_parts(x: Array) -> tuple[Array, Array]:
    """x sigmoid(x) and its derivative sigmoid(x) (1 + x sigmoid(-x)), from one exp.

    sigmoid(x) = q k and sigmoid(-x) from ``sigmoid_pair`` (k = e^-61 below x = -61),
    so x e^x stays normal down to x = -92 where e^x alone is flushed; x is clipped
    where it multiplies a zero (x = -inf, and x = +inf in the derivative), at 200 in
    float32 and 800 in float64, beyond every x e^x. (With a slope beta, see
    ``_smooth._silu_lo_parts``.) silu itself uses this in float64 only; its float32
    kernels are ``_expm1.silu_value`` and ``silu_slope``.
    """
    q, k, big = sigmoid_pair(x)
    lim = far(x)
    bracket = 1.0 + jnp.clip(x, -lim, lim) * (big * q)
    # the value as one quotient (x k exact where k = 1): fewer roundings than (x q) k
    return (jnp.maximum(x, -lim) * k) / (k + big), (q * bracket) * k


def sigmoid_pair(p: Array, err: Array | None = None) -> tuple[Array, Array, Array]:
    """``(q, k, big)`` with sigmoid(p + err) = q k and sigmoid(-p - err) = big q, from
    one exp.

    ``big = e^{-p} / k`` with k = e^-61 below p = -61 (the shift is exact) and 1
    elsewhere, so q stays normal where sigmoid(p) alone is flushed (61: the integer near
    64 whose e^-n float32 holds best, to 0.05 ulp, where e^-64 is 0.51 ulp off and that
    error reached every tail value); the exponent is capped 8 below e's overflow (it
    only changes outputs that are subnormal anyway). ``err`` (a small low part of p)
    enters as e^{-p} - e^{-p} err.
    """
    return _sigmoid_pair(p, jnp.zeros_like(p) if err is None else err, err is not None)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _sigmoid_pair(p: Array, err: Array, has_err: bool) -> tuple[Array, Array, Array]:
    k = tail_scale(p)
    big = jnp.exp(jnp.minimum(jnp.where(p < -61.0, -61.0, 0.0) - p, _exp_cap(p.dtype) - 8.0))
    if has_err:
        big = big - big * err  # e^{-(p + err)} / k; one rounding (big (1 - err) has two)
    return 1.0 / (k + big), k, big


@_sigmoid_pair.defjvp
def _sigmoid_pair_jvp(has_err: bool, primals: tuple[Array, Array],
                      tangents: tuple[Array, Array]) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
    # dq = q (big q) dp: autodiff of 1 / (k + big) takes dbig (k + big)^-2, whose second
    # factor is 0 past big = 2^63 (p = -44: silu'' there was 0 or, in reverse mode, its
    # cotangent q^2 flushed), where q (big q) dp is normal; k is a step (derivative 0)
    p, err = primals
    q, k, big = _sigmoid_pair(p, err, has_err)
    t = tangents[0] + tangents[1] if has_err else tangents[0]
    return (q, k, big), ((q * (big * q)) * t, jnp.zeros_like(k), -(big * t))


def sigmoid_scaled(p: Array, m: Array, k: Array) -> tuple[Array, Array, Array]:
    """``(s, k_p, d)`` with sigmoid(p) = s k_p and sigmoid'(p) = d k, from e^{-|p|} = m k.

    ``s`` and ``d`` stay normal where sigmoid(p) (p < -87) and sigmoid'(p) alone are
    flushed: multiply a factor into them before the scale ``k_p`` or ``k``.
    """
    r = 1.0 / (1.0 + m * k)
    pos = p >= 0
    return jnp.where(pos, r, m * r), jnp.where(pos, 1.0, k), (m * r) * r
