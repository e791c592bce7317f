"""Table-driven checks of every registered function beyond accuracy (tests/test_accuracy.py):
dtypes, transformations, second derivatives, kink conventions, memory and bad input."""

from __future__ import annotations

import contextlib
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxact as ja
from jaxact._bench import residuals, saved_residuals

ELEMENTWISE = ja.names(kind="elementwise")
NORMALIZERS = ja.names(kind="normalizer")


def fn(name: str):
    """The registered function with the entry's sample arguments bound."""
    entry = ja.entry(name)
    return functools.partial(entry.fn, **entry.sample) if entry.sample else entry.fn


def _points(name: str) -> np.ndarray:
    """Generic points (no kinks, inside the domain) where derivatives are checked."""
    lo, hi = ja.entry(name).domain
    pts = np.array([-2.3, -0.7, 0.4, 1.9, 4.6])
    return pts[(pts > lo) & (pts < hi)]


def _grid(dtype) -> jax.Array:
    x = np.concatenate([np.linspace(-12, 12, 481), [0.0, 1e-3, -1e-3, 40.0, -40.0]])
    return jnp.asarray(x, dtype)


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_low_precision_is_float32_rounded_once(name, dtype):
    f = fn(name)
    x = _grid(dtype)
    lo, hi = ja.entry(name).domain
    x = x[(x > lo) & (x < hi)] if lo > -np.inf else x
    got = f(x)
    assert got.dtype == dtype
    want = f(x.astype(jnp.float32)).astype(dtype)
    np.testing.assert_array_equal(np.asarray(got, np.float32), np.asarray(want, np.float32))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_dtype_policy(name):
    f = fn(name)
    assert f(jnp.ones(3, jnp.float32)).dtype == jnp.float32
    assert f(1.0).dtype == jnp.float32  # Python scalars are weak: no upcast
    out = f(jnp.arange(1, 4, dtype=jnp.int32))
    assert out.dtype == (jnp.int32 if ja.entry(name).keeps_int else jnp.float32)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float64_under_x64(name):
    with jax.enable_x64(True):
        x = jnp.asarray(_points(name), jnp.float64)
        y = fn(name)(x)
        assert y.dtype == jnp.float64
        ref = np.asarray(fn(name)(x.astype(jnp.float32)), np.float64)
        np.testing.assert_allclose(np.asarray(y), ref, rtol=1e-6, atol=1e-7)


def _sig(x):
    return np.exp(x - np.logaddexp(0.0, x))  # float64 sigmoid without overflow


def _sp(x):
    return np.logaddexp(0.0, x)


_SILU = (lambda x: x * _sig(x), lambda x: _sig(x) * (1.0 + x * _sig(-x)))
# Value and derivative in float64, from numpy, for the logistic family: the float32
# comparison above cannot see float64's tails (sigmoid(-300) = 5e-131 is no float32).
FLOAT64_TAILS = {
    "sigmoid": (_sig, lambda x: _sig(x) * _sig(-x)),
    "silu": _SILU,
    "log_sigmoid": (lambda x: -np.logaddexp(0.0, -x), lambda x: _sig(-x)),
    "softplus": (_sp, _sig),
    "tanh": (np.tanh, lambda x: 4.0 * _sig(2.0 * x) * _sig(-2.0 * x)),
    "mish": (lambda x: x * np.tanh(_sp(x)),
             lambda x: np.tanh(_sp(x)) + x * _sig(x) / np.cosh(np.minimum(_sp(x), 300.0)) ** 2),
    # the general kernels: a traced beta, and ACON-C's defaults (p1 = 1, p2 = 0, beta = 1)
    "silu(beta=array)": _SILU,
    "acon_c": _SILU,
}
_TAIL_FNS = {"silu(beta=array)": lambda x: ja.silu(x, beta=jnp.ones((), x.dtype))}


@pytest.mark.parametrize("name", sorted(FLOAT64_TAILS))
def test_float64_tails(name):
    x = np.array([-740.0, -700.0, -571.7, -300.0, -100.0, -30.0, -1.0, 0.5, 30.0, 300.0])
    f, df = FLOAT64_TAILS[name]
    g = _TAIL_FNS.get(name) or fn(name)
    with jax.enable_x64(True):
        got = np.asarray(g(jnp.asarray(x)))
        dgot = np.asarray(jax.vmap(jax.grad(g))(jnp.asarray(x)))
    for what, out, ref in (("value", got, f(x)), ("derivative", dgot, df(x))):
        keep = np.abs(ref) > 1e-300  # smaller ones may be flushed
        np.testing.assert_allclose(out[keep], ref[keep], rtol=1e-12, err_msg=f"{name} {what}")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_jit_vmap_eager_agree(name):
    f = fn(name)
    x = _grid(jnp.float32)[:480].reshape(-1, 6)
    eager = f(x)
    np.testing.assert_array_equal(jax.jit(f)(x), eager)
    np.testing.assert_array_equal(jax.vmap(f)(x), eager)
    g = jax.vmap(jax.vmap(jax.grad(f)))(x)
    np.testing.assert_array_equal(jax.jit(jax.vmap(jax.vmap(jax.grad(f))))(x), g)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_second_derivatives(name):
    with jax.enable_x64(True):
        x = jnp.asarray(_points(name), jnp.float64)
        check_grads(jax.jit(fn(name)), (x,), order=2, modes=("fwd", "rev"))


_GENERIC = np.array([-12.0, -5.3, -2.3, -0.7, -0.05, 1e-3, 0.4, 1.9, 4.6, 9.5], np.float32)


_TAILS_F2 = np.array([-85.0, -60.0, -50.0, -35.0, -20.0, 20.0, 35.0, 50.0, 60.0, 85.0],
                     np.float32)


def _float32_against_float64(derivative, z: np.ndarray, tail: np.ndarray | None = None) -> None:
    """``derivative(z)`` in float32 within 1e-3 of float64's (relative, or of its largest
    entry where it is smaller), and never NaN. Entries marked ``tail`` (where f'' is tiny
    beside the rest) are held to 1e-3 of themselves wherever float64's is above 1e-30."""
    got = np.asarray(derivative(jnp.asarray(z)), np.float64)
    with jax.enable_x64(True):
        ref = np.asarray(derivative(jnp.asarray(z, jnp.float64)))
    tail = np.zeros(ref.shape, bool) if tail is None else tail
    floor = 1e-3 * max(float(np.max(np.abs(ref[~tail]), initial=0.0)), 1e-30)
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), np.where(tail, 1e-30, floor))
    rel = np.where(tail & (np.abs(ref) <= 1e-30), 0.0, rel)
    assert not np.any(np.isnan(got)) and rel.max() <= 1e-3, (z, got, ref)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_second_derivatives_in_float32(name):
    """f'' in float32 (autodiff of the rule's f') agrees with float64's to 1e-3, at ten
    generic points and, relative to itself, in the tails |x| = 20..85.

    The kernels' hand-reduced exponentials took n = round(2a / log 2) through a shifter
    that autodiff saw as 2a / log 2: the reduced argument's derivative was 0, and with it
    every f'' through them (gelu's off by 200%, acon_c's NaN, srs's by 12x); a root fit
    on its end point got half of f'' (clip's derivative there). In the tails: the sigmoid
    kernel's 1 / (k + e^{-p}) took its derivative as (k + e^{-p})^-2, 0 past p = -44
    (e_swish'', quick_gelu'' 2% of themselves); aptx's far tail formed 1 / (2^(n - 64)
    (1 + 2h)), whose reverse-mode cotangent flushed at |x| = 35; mish's tanh(softplus) was
    a quotient of two terms ~1 (12% at x = 20); float64's tanh derivative 1 - t^2
    cancelled (lisht'' 5% off in float64)."""
    lo, hi = ja.entry(name).domain
    x = np.concatenate([_GENERIC, _TAILS_F2])
    inside = (lo < x) & (hi > x)
    tail = np.arange(len(x)) >= len(_GENERIC)
    _float32_against_float64(jax.vmap(jax.grad(jax.grad(fn(name)))), x[inside], tail[inside])


def _float_params(name: str) -> dict[str, float]:
    """The entry's scalar float parameters (defaults, then its sample)."""
    entry = ja.entry(name)
    given = {p.name: p.default for p in entry.params} | dict(entry.sample)
    return {k: v for k, v in given.items() if isinstance(v, float)}


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if _float_params(n)])
def test_parameter_hessians_in_float32(name):
    """The Hessian in x and the scalar parameters, float32 against float64 (1e-3 of its
    largest entry, or relative): the partials' own derivatives flow through the same
    kernels as f''."""
    params = _float_params(name)
    keys, fixed = list(params), {k: v for k, v in ja.entry(name).sample.items()
                                 if k not in params}
    lo, hi = ja.entry(name).domain
    x = _GENERIC[(lo < _GENERIC) & (hi > _GENERIC)][::2]
    f = lambda z: ja.entry(name).fn(z[0], **dict(zip(keys, z[1:], strict=True)), **fixed)
    z = np.array([[v, *params.values()] for v in x], np.float32)
    _float32_against_float64(jax.vmap(jax.hessian(f)), z)


_TAILS = np.array([-3e38, -1e30, -1e10, -200.0, -150.0, -104.0, -89.0, -88.5, -45.0,
                   45.0, 88.5, 89.0, 104.0, 150.0, 200.0, 1e10, 1e30, 3e38], np.float32)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_second_derivative_in_the_tails(name):
    """f'' (reverse over reverse, as jax.hessian) is not NaN at large |x| where f' is finite.

    A select's unused branch still gets a zero cotangent, and 0 * inf is NaN: the
    branch must not overflow (tanh's e^{2|x|} did from |x| = 44, its polynomial in x^2,
    mish's unused side, log1mexp's 1 / expm1, the polynomial fits near the roots of
    e_swish, quick_gelu, aptx, smish, logish and serf, and erfact's and pserf's
    double-float products, whose bit-mask splits of an overflowed e^v or bracket are
    NaN)."""
    lo, hi = ja.entry(name).domain
    x = jnp.asarray(_TAILS[(lo < _TAILS) & (hi > _TAILS)])
    f = fn(name)
    d1 = np.asarray(jax.vmap(jax.grad(f))(x))
    d2 = np.asarray(jax.vmap(jax.grad(jax.grad(f)))(x))
    bad = np.isnan(d2) & np.isfinite(d1)  # f' infinite (exponential beyond 88.7): so is f''
    assert not bad.any(), f"{name}: f'' is NaN at {np.asarray(x)[bad]}"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_kink_conventions(name):
    f = fn(name)
    for kink in ja.entry(name).kinks:
        assert float(jax.grad(f)(jnp.float32(kink.at))) == pytest.approx(kink.grad, rel=1e-6), kink


def _residual_sizes(f, x) -> float:
    """Elements saved for backward that depend on x, in units of x.size."""
    return sum(r["size"] for r in residuals(f, x) if r["depends_on_x"]) / np.prod(x.shape)


@pytest.mark.parametrize("name", [*ELEMENTWISE, "glu"])
def test_one_full_size_residual(name):
    x = jax.ShapeDtypeStruct((4096, 8), jnp.float32)
    assert _residual_sizes(fn(name), x) <= 1.0


def test_jax_nn_gelu_saves_more_than_one():
    # The residual counter must be able to fail: jax.nn's tanh gelu saves several.
    x = jax.ShapeDtypeStruct((4096,), jnp.float32)
    assert saved_residuals(jax.nn.gelu, x) > 1


@pytest.mark.parametrize("name", ELEMENTWISE + NORMALIZERS + ["glu"])
def test_huge_input_is_only_traced(name):
    jaxpr = jax.make_jaxpr(lambda: fn(name)(jnp.ones((10**12, 2))))()
    assert jaxpr is not None


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_composes_with_remat_and_scan_without_retracing(name):
    f = fn(name)
    x = jnp.linspace(0.1, 2.0, 16)

    def body(c, _):
        return f(c) * 0.5 + 0.1, None

    loss = lambda x: jnp.sum(jax.lax.scan(jax.checkpoint(body), x, None, length=3)[0])
    grad = jax.jit(jax.grad(loss))
    g1 = grad(x)
    x1, x2 = x + 1.0, x + 2.0
    f(x1)
    with traces() as count:
        f(x2)
        grad(x1)
    assert count == [], "a second call with the same shapes must not trace again"
    np.testing.assert_allclose(g1, jax.grad(loss)(x), rtol=1e-6)


@contextlib.contextmanager
def traces():
    """Collects the jaxpr traces JAX records while the block runs."""
    seen: list[str] = []

    def listener(event: str, duration: float, **kwargs) -> None:
        if event == "/jax/core/compile/jaxpr_trace_duration":
            seen.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


@pytest.mark.parametrize("name", ELEMENTWISE + NORMALIZERS + ["glu"])
@pytest.mark.parametrize("bad", [jnp.ones(2, jnp.complex64), [1.0, 2.0], "x", None])
def test_bad_input_types(name, bad):
    with pytest.raises(TypeError, match=r"'x'|'a'|x|a"):
        fn(name)(bad)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ja.celu(1.0, alpha=0.0), "alpha"),
        (lambda: ja.celu(1.0, alpha=-1.0), "alpha"),
        (lambda: ja.softplus(1.0, beta=0.0), "beta"),
        (lambda: ja.softplus(1.0, beta=-1.0), "beta"),
        (lambda: ja.squareplus(1.0, b=-1.0), "b must"),
        (lambda: ja.hard_tanh(1.0, min_val=1.0, max_val=-1.0), "min_val"),
        (lambda: ja.glu(jnp.ones((2, 3))), "axis"),
        (lambda: ja.glu(jnp.ones((2, 4)), axis=2), "axis"),
        (lambda: ja.softmax(jnp.ones((2, 4)), axis=3), "axis"),
        (lambda: ja.log_softmax(jnp.ones(3), where=jnp.ones((2, 2), bool)), "where"),
    ],
)
def test_invalid_hyperparameters(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: ja.gelu(1.0, approximate="yes"),
        lambda: ja.elu(1.0, alpha=1j),
        lambda: ja.leaky_relu(1.0, negative_slope="a"),
        lambda: ja.softmax(jnp.ones(3), where=jnp.ones(3)),
    ],
)
def test_invalid_argument_types(call):
    with pytest.raises(TypeError):
        call()


def test_traced_hyperparameters_are_accepted_under_jit():
    y = jax.jit(lambda a: ja.celu(jnp.float32(-1.0), alpha=a))(2.0)
    assert np.isclose(float(y), 2.0 * np.expm1(-0.5))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_normalizer_one_residual(name):
    x = jax.ShapeDtypeStruct((64, 1024), jnp.float32)
    assert _residual_sizes(fn(name), x) <= 1.0 + 1 / 16  # + per-row statistics


@pytest.mark.parametrize("name", NORMALIZERS)
def test_normalizer_dtypes_and_second_derivatives(name):
    f = fn(name)
    x = jnp.asarray([[0.3, -1.2, 2.0, 0.0], [5.0, 5.0, -3.0, 1.0]], jnp.float32)
    assert f(x.astype(jnp.bfloat16)).dtype == jnp.bfloat16
    with jax.enable_x64(True):
        f64 = jax.jit(lambda x: f(x, axis=-1))
        check_grads(f64, (x.astype(jnp.float64),), order=2, modes=("fwd", "rev"))


def test_softmax_masks_and_axes():
    x = jnp.asarray([[1.0, 2.0, 3.0], [0.0, -jnp.inf, 1.0]])
    w = jnp.asarray([[True, False, True], [True, True, True]])
    s = ja.softmax(x, where=w)
    assert float(s[0, 1]) == 0.0
    np.testing.assert_allclose(np.asarray(s.sum(-1)), 1.0, rtol=1e-6)
    ls = ja.log_softmax(x, where=w)
    assert float(ls[0, 1]) == -np.inf
    g = jax.grad(lambda x: ja.log_softmax(x, where=w)[0, 0])(x)
    assert float(g[0, 1]) == 0.0 and np.all(np.isfinite(np.asarray(g)))
    np.testing.assert_allclose(ja.softmax(x, axis=(0, 1)).sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(ja.logsumexp(x, axis=0, keepdims=True).shape, (1, 3))


def test_softmax_weights_are_nan_without_a_finite_maximum():
    """softmax's select ``isfinite(max)`` only speeds up XLA's CPU code; on other
    platforms it is left out (it blocks XLA's one-pass GPU softmax), so the weights
    themselves must already be NaN in every slice without a finite maximum, and
    ``e / sum(e)`` must equal the softmax everywhere else."""
    from jaxact import _normalizers

    x = jnp.asarray([[1.0, 2.0, 3.0], [0.0, -jnp.inf, 1.0], [jnp.inf, 0.0, 1.0],
                     [jnp.nan, 0.0, 1.0], [-jnp.inf] * 3, [3e38, -3e38, 0.0]])
    mask = jnp.asarray([[True, True, True]] * 5 + [[True, False, True]])
    for where in (None, mask):
        _, e = _normalizers.shifted_exp(x, where, (1,), exact=True)
        plain = e * (1.0 / jnp.sum(e, 1, keepdims=True))
        plain = plain if where is None else jnp.where(where, plain, 0.0)
        want = np.asarray(ja.softmax(x, where=where))  # the select's form, on this CPU
        np.testing.assert_array_equal(np.asarray(plain), want)
        assert np.isnan(want[2:5]).all() and np.isfinite(want[[0, 1, 5]]).all()


def test_logsumexp_keeps_log1p_tiny_and_signs():
    assert float(ja.logsumexp(jnp.array([0.0, -30.0]))) == pytest.approx(np.exp(-30.0), rel=1e-6)
    val, sign = ja.logsumexp(jnp.array([0.0, 0.0]), b=jnp.array([1.0, -3.0]), return_sign=True)
    assert float(sign) == -1.0 and float(val) == pytest.approx(np.log(2.0), rel=1e-6)
    assert np.isnan(float(ja.logsumexp(jnp.array([0.0, 0.0]), b=jnp.array([1.0, -3.0]))))
    assert float(ja.logsumexp(jnp.array([-jnp.inf, -jnp.inf]))) == -np.inf
    assert float(ja.logmeanexp(jnp.array([2.0, 2.0, 2.0, 2.0]))) == pytest.approx(2.0)
