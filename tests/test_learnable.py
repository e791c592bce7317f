"""The learnable activations beyond the accuracy table: parameter semantics and shapes,
limits in the parameters, domains, kink conventions of parameter derivatives, memory of
parameter gradients, and error messages. (Accuracy of values and of every derivative,
in x and in each parameter, is in tests/test_accuracy.py with tests/cases_learnable.py.)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact as ja
from jaxact._bench import residuals

LEARNABLE = ["snake", "sine", "star_relu", "pelu", "srelu", "acon_c", "soft_exponential",
             "erfact", "pserf"]
# Per-channel parameters (shape (C,)) for a (B, C) input, one set per function.
PER_CHANNEL = {
    "snake": {"a": [0.5, 1.0, 2.0]},
    "sine": {"w0": [1.0, 3.0, 30.0]},
    "star_relu": {"s": [0.5, 1.0, 2.0], "b": [-0.5, 0.0, 0.5]},
    "pelu": {"a": [0.5, 1.0, 2.0], "b": [0.5, 1.0, 3.0]},
    "srelu": {"t_left": [-1.0, 0.0, -0.5], "a_left": [0.1, 0.2, -0.1],
              "t_right": [1.0, 0.5, 2.0], "a_right": [1.0, 0.3, 2.0]},
    "acon_c": {"p1": [1.0, 1.2, 0.3], "p2": [0.0, -0.3, 2.0], "beta": [1.0, 0.7, 3.0]},
    "soft_exponential": {"alpha": [-0.5, 0.0, 0.5]},
    "erfact": {"alpha": [0.75, 1.5, 0.2], "beta": [0.75, -0.4, 2.0]},
    "pserf": {"gamma": [1.25, 1.0, 0.6], "delta": [0.85, 1.0, 2.5]},
}
X = jnp.asarray(np.random.default_rng(3).uniform(-3, 3, (5, 3)), jnp.float32)


@pytest.mark.parametrize("name", LEARNABLE)
def test_per_channel_parameters_match_per_column_calls(name):
    fn = ja.get(name)
    params = {k: jnp.asarray(v, jnp.float32) for k, v in PER_CHANNEL[name].items()}
    got = fn(X, **params)
    assert got.shape == X.shape and got.dtype == X.dtype
    for c in range(X.shape[1]):
        col = fn(X[:, c], **{k: float(v[c]) for k, v in params.items()})
        np.testing.assert_array_equal(got[:, c], col)


@pytest.mark.parametrize("name", LEARNABLE)
def test_parameter_gradients_are_per_channel_sums(name):
    # The gradient of sum(f) in a per-channel parameter sums the per-element derivatives
    # of its column: the layer's view of the pure function.
    fn = ja.get(name)
    params = {k: jnp.asarray(v, jnp.float32) for k, v in PER_CHANNEL[name].items()}
    grads = jax.grad(lambda p: jnp.sum(fn(X, **p)))(params)
    for key, g in grads.items():
        assert g.shape == (3,)
        for c in range(3):
            one = {k: float(v[c]) for k, v in params.items()}

            def column(p, c=c, one=one, key=key):
                return jnp.sum(fn(X[:, c], **{**one, key: p}))

            col = jax.grad(column)(jnp.float32(one[key]))
            np.testing.assert_allclose(g[c], col, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", LEARNABLE)
def test_parameter_gradients_under_jit_and_vmap(name):
    fn = ja.get(name)
    params = {k: jnp.asarray(v, jnp.float32) for k, v in PER_CHANNEL[name].items()}
    loss = lambda p, x: jnp.sum(fn(x, **p) ** 2)
    g = jax.grad(loss)(params, X)
    gj = jax.jit(jax.grad(loss))(params, X)
    for k in g:
        np.testing.assert_allclose(gj[k], g[k], rtol=1e-6)
    per_row = jax.vmap(jax.grad(loss), in_axes=(None, 0))(params, X)  # one gradient per row
    for k in g:
        np.testing.assert_allclose(per_row[k].sum(0), g[k], rtol=1e-5, atol=1e-6)


def _residual_count(f, *args) -> int:
    shapes = tuple(jax.ShapeDtypeStruct(np.shape(a), jnp.float32) for a in args)
    size = math.prod(shapes[0].shape)
    return sum(1 for r in residuals(lambda t: f(*t), shapes) if r["size"] >= size // 2)


@pytest.mark.parametrize(("name", "kw"),
                         [("apl", ("a", "b")), ("rational", ("numerator", "denominator"))])
def test_coefficient_gradients_save_only_the_input(name, kw):
    # The coefficient tangent is rematerialised (jax.checkpoint): a gradient in x and in
    # both coefficient arrays keeps x and df/dx, not one array per coefficient.
    entry = ja.entry(name)
    coeffs = [jnp.asarray(entry.sample[k], jnp.float32) for k in kw]
    x = jnp.ones((4096, 8), jnp.float32)
    f = lambda x, c0, c1: entry.fn(x, **{kw[0]: c0, kw[1]: c1})
    assert _residual_count(f, x, *coeffs) <= 2


def test_snake_limit_a_to_zero():
    x = jnp.asarray([-3.0, -0.5, 0.0, 0.7, 20.0], jnp.float32)
    np.testing.assert_array_equal(ja.snake(x, a=0.0), x)
    da = jax.vmap(jax.grad(lambda a, x: ja.snake(x, a=a)), (None, 0))(0.0, x)
    np.testing.assert_allclose(da, x**2, rtol=1e-7)
    tiny = jax.vmap(jax.grad(lambda a, x: ja.snake(x, a=a)), (None, 0))(1e-20, x)
    np.testing.assert_allclose(tiny, x**2, rtol=1e-6)
    assert float(ja.snake(jnp.inf, a=0.0)) == np.inf
    assert float(jax.grad(lambda a: ja.snake(jnp.float32(jnp.inf), a=a))(0.0)) == np.inf


def test_snake_and_sine_where_the_phase_is_not_resolvable():
    x = jnp.float32(3e38)
    assert float(ja.snake(x, a=4.0)) == float(x)  # x + sin^2(4x)/4 rounds to x
    assert float(jax.grad(lambda x: ja.snake(x, a=4.0))(x)) == 1.0  # the period mean
    assert float(ja.sine(x)) == 0.0 and float(jax.grad(ja.sine)(x)) == 0.0
    assert np.isnan(float(ja.sine(jnp.inf)))


@pytest.mark.parametrize("x", [-7.0, -1.0, 0.0, 0.3, 5.0])
def test_soft_exponential_is_continuous_in_alpha_with_its_derivative(x):
    f = lambda a: ja.soft_exponential(jnp.float32(x), alpha=a)
    assert float(f(0.0)) == float(np.float32(x))
    assert float(jax.grad(f)(0.0)) == pytest.approx(1 + x * x / 2, rel=1e-6)
    for eps in (1e-4, -1e-4):
        assert float(f(eps)) == pytest.approx(x, abs=3e-4 * (1 + x * x))
        assert float(jax.grad(f)(eps)) == pytest.approx(1 + x * x / 2, rel=3e-3)


@pytest.mark.parametrize("x", [-2.0, 0.4, 3.0])
def test_soft_exponential_second_alpha_derivative_at_zero(x):
    # d2f/dalpha2 jumps at alpha = 0 (2x + 2x^3/3 below, x^3/3 above): the docstring's
    # convention is the right-hand limit, and each side tends to its own
    d2 = jax.grad(jax.grad(lambda a: ja.soft_exponential(jnp.float32(x), alpha=a)))
    assert float(d2(0.0)) == pytest.approx(x**3 / 3, rel=1e-5)
    assert float(d2(1e-3)) == pytest.approx(x**3 / 3, rel=1e-2)
    assert float(d2(-1e-3)) == pytest.approx(2 * x + 2 * x**3 / 3, rel=1e-2)


def test_soft_exponential_domain_for_negative_alpha():
    # alpha < 0: defined for x > 1/alpha - alpha; -inf on the edge, NaN beyond.
    a = -0.5
    edge = 1 / a - a  # -1.5, exact in float32
    y = ja.soft_exponential(jnp.asarray([edge - 0.5, edge, edge + 0.5], jnp.float32), alpha=a)
    assert np.isnan(y[0]) and y[1] == -np.inf and np.isfinite(y[2])
    g = jax.grad(lambda x: ja.soft_exponential(x, alpha=a))(jnp.float32(edge - 0.5))
    assert np.isnan(g)
    assert float(ja.soft_exponential(jnp.inf, alpha=a)) == np.inf
    assert float(ja.soft_exponential(-jnp.inf, alpha=0.5)) == pytest.approx(0.5 - 2.0)


def test_srelu_parameter_derivatives_at_the_kinks():
    # The paper's split: x <= t_left is the left piece and x >= t_right the right one.
    kw = dict(t_left=-0.5, a_left=0.2, t_right=0.5, a_right=0.3)
    names = list(kw)
    g = jax.grad(lambda p, x: ja.srelu(x, **dict(zip(names, p, strict=True))))
    at_left = g(tuple(jnp.float32(v) for v in kw.values()), jnp.float32(-0.5))
    at_right = g(tuple(jnp.float32(v) for v in kw.values()), jnp.float32(0.5))
    np.testing.assert_allclose(at_left, [0.8, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(at_right, [0.0, 0.0, 0.7, 0.0])
    assert float(jax.grad(lambda x: ja.srelu(x, **kw))(jnp.float32(0.5))) == pytest.approx(0.3)


def test_apl_shapes_and_conventions():
    a = jnp.asarray([[0.2, -0.3], [1.0, 0.5], [0.0, 0.0]], jnp.float32)  # 3 channels, 2 hinges
    b = jnp.asarray([[-1.0, 1.0], [0.0, 2.0], [0.5, 0.5]], jnp.float32)
    y = ja.apl(X, a=a, b=b)
    assert y.shape == X.shape
    np.testing.assert_allclose(y[:, 2], jnp.maximum(X[:, 2], 0))
    # Flat-side convention: at a hinge its own slope is excluded.
    g = jax.grad(lambda x: ja.apl(x, a=(0.2, -0.3), b=(-1.0, 1.0)))
    assert float(g(jnp.float32(1.0))) == pytest.approx(1.0)
    assert float(g(jnp.float32(0.0))) == pytest.approx(0.3)
    # x = -inf: every hinge is on, f -> -x sum(a) (here -0.1 * inf).
    assert float(ja.apl(-jnp.inf, a=(0.2, -0.3), b=(-1.0, 1.0))) == -np.inf
    assert float(ja.apl(-jnp.inf, a=(0.2, -0.2), b=(-1.0, 1.0))) == pytest.approx(-0.4)


def test_rational_is_pau_version_b_and_has_the_right_limits():
    num = (0.03125, 0.6, -0.4, 0.3, 0.2, 0.125)
    den = (0.25, 0.125, 0.25, 0.125)
    x = np.linspace(-4, 4, 81)
    p = np.polyval(np.asarray(num, np.float64)[::-1], x)
    q = 1 + np.abs(np.polyval(np.r_[np.asarray(den, np.float64)[::-1], 0.0], x))
    got = ja.rational(jnp.asarray(x, jnp.float32), numerator=num, denominator=den)
    np.testing.assert_allclose(got, p / q, rtol=2e-6, atol=1e-7)
    # No overflow of x^5 or x^8: the ratio's limit, f ~ (a5 / b4) x = x for large |x|.
    big = jnp.asarray([1e30, -1e30, 3e38, jnp.inf, -jnp.inf], jnp.float32)
    np.testing.assert_allclose(ja.rational(big, numerator=num, denominator=den),
                               [1e30, -1e30, 3e38, np.inf, -np.inf], rtol=1e-6)
    dbig = jax.vmap(jax.grad(lambda x: ja.rational(x, numerator=num, denominator=den)))(big)
    np.testing.assert_allclose(dbig, 1.0, rtol=1e-6)
    # Kinks where B changes sign (0 and -2 here): sign 0, the mean of the one-sided slopes.
    g0 = float(jax.grad(lambda x: ja.rational(x, numerator=num, denominator=den))(0.0))
    assert g0 == pytest.approx(0.6)


def test_rational_coefficient_derivatives():
    num, den = jnp.asarray([0.1, 1.0, 0.5]), jnp.asarray([0.0, 0.25])
    x = jnp.asarray([-3.0, -0.5, 0.0, 2.0], jnp.float32)
    ja_num, ja_den = jax.jacfwd(lambda n, d: ja.rational(x, numerator=n, denominator=d),
                                (0, 1))(num, den)
    q = 1 + 0.25 * np.asarray(x) ** 2
    np.testing.assert_allclose(ja_num, np.stack([np.asarray(x) ** j / q for j in range(3)], 1),
                               rtol=1e-6)
    p = 0.1 + np.asarray(x) + 0.5 * np.asarray(x) ** 2
    want = np.stack([-np.sign(0.25 * np.asarray(x) ** 2) * p * np.asarray(x) ** k / q**2
                     for k in (1, 2)], 1)
    np.testing.assert_allclose(ja_den, want, rtol=1e-6, atol=1e-8)
    rev = jax.jacrev(lambda n: ja.rational(x, numerator=n, denominator=den))(num)
    np.testing.assert_allclose(rev, ja_num, rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ja.pelu(1.0, a=0.0), "pelu: a must be positive"),
        (lambda: ja.pelu(1.0, b=-1.0), "pelu: b must be positive"),
        (lambda: ja.srelu(1.0, t_left=1.0, t_right=0.0), "t_left"),
        (lambda: ja.apl(1.0, a=(0.1, 0.2), b=(1.0,)), "same number of hinges"),
        (lambda: ja.apl(1.0, a=0.1, b=1.0), "last axis"),
        (lambda: ja.rational(1.0, numerator=(), denominator=(1.0,)), "numerator"),
        (lambda: ja.rational(1.0, numerator=(1.0,), denominator=2.0), "denominator"),
    ],
)
def test_invalid_parameters(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: ja.snake(1.0, a="1"),
        lambda: ja.sine(1.0, w0=1j),
        lambda: ja.rational(1.0, numerator=("a",), denominator=(1.0,)),
        lambda: ja.apl(1.0, a=[1j], b=[1.0]),
    ],
)
def test_invalid_parameter_types(call):
    with pytest.raises(TypeError):
        call()


def test_traced_parameters_skip_the_checks():
    y = jax.jit(lambda a: ja.pelu(jnp.float32(-1.0), a=a, b=1.0))(2.0)
    assert float(y) == pytest.approx(2 * math.expm1(-1.0), rel=1e-6)
