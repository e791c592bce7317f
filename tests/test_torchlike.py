"""What the generic tables cannot check for jaxact/_shrink.py and jaxact/_torchlike.py:
torch/Keras semantics, rrelu's randomness, prelu's per-channel slopes, crelu's shape.

Expected values are hand-derived from the formulas in torch's and Keras' documentation
(torch.nn.Threshold/Hardshrink/Softshrink/RReLU/PReLU, keras.activations.relu), or
from a NumPy transcription of Keras' relu, written out below.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxact as ja
from jaxact._bench import residuals

NAN, INF = float("nan"), float("inf")


def grad(f, x):
    return np.asarray(jax.vmap(jax.grad(f))(jnp.asarray(x, jnp.float32)))


# --- threshold and shrinks -------------------------------------------------------------


def test_threshold_semantics():
    x = jnp.array([-INF, 0.5, 1.0, 1.5, INF, NAN])
    y = np.asarray(ja.threshold(x, threshold=1.0, value=7.0))
    np.testing.assert_array_equal(y, [7.0, 7.0, 7.0, 1.5, INF, NAN])  # NaN passes, as torch
    g = grad(lambda v: ja.threshold(v, threshold=1.0, value=7.0), [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])  # f'(t) = 0
    dv = jax.grad(lambda v: ja.threshold(x[:4], threshold=1.0, value=v).sum())(7.0)
    assert float(dv) == 3.0
    assert ja.threshold(jnp.array([1, 5]), threshold=2, value=0).dtype == jnp.int32
    assert ja.threshold(jnp.array([1, 5]), threshold=2, value=0.5).dtype == jnp.float32


@pytest.mark.parametrize("name", ["hard_shrink", "soft_shrink"])
def test_shrink_dead_zone_and_nan(name):
    f = ja.get(name)
    x = jnp.array([-2.0, -0.5, -0.25, 0.0, 0.25, 0.5, 2.0, NAN, INF, -INF])
    y = np.asarray(f(x))
    assert np.all(y[1:6] == 0.0)
    assert np.isnan(y[7]) and y[8] == INF and y[9] == -INF
    expect = [-2.0, 2.0] if name == "hard_shrink" else [-1.5, 1.5]
    np.testing.assert_array_equal(y[[0, 6]], expect)
    np.testing.assert_array_equal(grad(f, [-0.5, 0.5, -0.6, 0.6]), [0.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="lambd"):
        f(x, lambd=-0.1)


def test_soft_shrink_lambda_gradient():
    x = jnp.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    g = jax.grad(lambda lam: jnp.sum(ja.soft_shrink(x, lambd=lam) * jnp.arange(1.0, 6.0)))(1.0)
    assert float(g) == 1.0 - 5.0  # +1 at x = -3 (weight 1), -1 at x = 3 (weight 5)


def test_tanh_shrink_tiny_and_huge():
    x = np.float32([1e-3, -2e-5, 1e-12, 3e38, -INF])
    y = np.asarray(ja.tanh_shrink(x), np.float64)
    small = x[:3].astype(np.float64)
    np.testing.assert_allclose(y[:3], small**3 / 3 - 2 * small**5 / 15, rtol=3e-7)
    assert y[3] == np.float32(3e38) and y[4] == -INF
    d = np.float32([1e-3, 10.0])
    np.testing.assert_allclose(grad(ja.tanh_shrink, d), np.tanh(d.astype(np.float64)) ** 2,
                               rtol=3e-7)


def test_exponential_limits():
    y = np.asarray(ja.exponential(jnp.array([-INF, -200.0, 88.72, 88.73, INF, NAN])))
    assert y[0] == 0.0 and y[1] == 0.0 and np.isfinite(y[2]) and y[3] == INF and y[4] == INF
    assert np.isnan(y[5])
    # just below the overflow, where XLA's exp is 5 ulp off: within 2 ulp of float64 exp
    x = np.linspace(88.5, 88.72, 2001, dtype=np.float32)
    got = np.asarray(ja.exponential(x), np.float64)
    ref = np.exp(x.astype(np.float64))
    assert np.max(np.abs(got - ref) / np.spacing(ref.astype(np.float32))) <= 2.0


# --- rrelu --------------------------------------------------------------------------------


def test_rrelu_eval_mode_is_leaky_relu_with_mean_slope():
    x = jnp.linspace(-5.0, 5.0, 41)
    np.testing.assert_array_equal(ja.rrelu(x), ja.leaky_relu(x, negative_slope=11 / 48))
    np.testing.assert_array_equal(ja.rrelu(x, lower=0.1, upper=0.3, key=jax.random.key(1)),
                                  ja.leaky_relu(x, negative_slope=0.2))  # key unused


def test_rrelu_training_statistics():
    # 2^16 slopes from U[1/8, 1/3): the sample mean has standard deviation
    # (5/24)/sqrt(12 * 2^16) = 2.3e-4; 1e-3 is over 4 of them (seed fixed: deterministic).
    n, lo, hi = 2**16, 1 / 8, 1 / 3
    slopes = -np.asarray(ja.rrelu(-jnp.ones(n), key=jax.random.key(42), training=True), np.float64)
    assert lo <= slopes.min() and slopes.max() < hi
    assert abs(slopes.mean() - (lo + hi) / 2) < 1e-3
    assert abs(slopes.var() - (hi - lo) ** 2 / 12) < 0.05 * (hi - lo) ** 2 / 12
    # histogram: 8 equal bins, each within 5% of n/8 (their sd is 1.2%)
    counts, _ = np.histogram(slopes, bins=8, range=(lo, hi))
    assert np.all(np.abs(counts - n / 8) < 0.05 * n / 8)


def test_rrelu_training_is_deterministic_given_the_key():
    x = jnp.linspace(-4.0, 4.0, 64)
    k1, k2 = jax.random.key(0), jax.random.key(1)
    a = ja.rrelu(x, key=k1, training=True)
    np.testing.assert_array_equal(a, ja.rrelu(x, key=k1, training=True))
    np.testing.assert_array_equal(a, jax.jit(lambda x, k: ja.rrelu(x, key=k, training=True))(x, k1))
    assert not np.array_equal(a, ja.rrelu(x, key=k2, training=True))
    np.testing.assert_array_equal(a[32:], x[32:])  # x >= 0 untouched
    legacy = ja.rrelu(x, key=jax.random.PRNGKey(0), training=True)  # raw uint32 keys work
    assert legacy.shape == x.shape
    # the gradient is the drawn slope below 0, 1 above
    g = jax.grad(lambda x: ja.rrelu(x, key=k1, training=True).sum())(x)
    np.testing.assert_allclose(g[:32], a[:32] / x[:32], rtol=1e-6)
    assert np.all(g[32:] == 1.0)


def test_rrelu_low_precision_draws_in_float32():
    x = -jnp.linspace(0.5, 3.0, 16)
    k = jax.random.key(3)
    y = ja.rrelu(x.astype(jnp.bfloat16), key=k, training=True)
    assert y.dtype == jnp.bfloat16
    want = ja.rrelu(x.astype(jnp.bfloat16).astype(jnp.float32), key=k, training=True)
    np.testing.assert_array_equal(y, want.astype(jnp.bfloat16))


def test_rrelu_errors():
    with pytest.raises(ValueError, match="key"):
        ja.rrelu(jnp.ones(3), training=True)
    with pytest.raises(TypeError, match="key"):
        ja.rrelu(jnp.ones(3), key=0, training=True)
    with pytest.raises(TypeError, match="training"):
        ja.rrelu(jnp.ones(3), training=1)
    with pytest.raises(ValueError, match="lower"):
        ja.rrelu(jnp.ones(3), lower=0.5, upper=0.25)


# --- prelu ----------------------------------------------------------------------------


def test_prelu_per_channel_torch_and_keras_layouts():
    x = jax.random.normal(jax.random.key(0), (2, 3, 4, 5))
    alpha = jnp.array([0.1, -0.2, 0.3])
    want = np.where(x >= 0, x, np.asarray(alpha)[None, :, None, None] * x)
    np.testing.assert_array_equal(ja.prelu(x, alpha, axis=1), want)  # torch: channels at 1
    np.testing.assert_array_equal(ja.prelu(x, alpha, axis=-3), want)
    keras_alpha = jnp.broadcast_to(alpha[:, None, None], (3, 4, 5))  # shape x.shape[1:]
    np.testing.assert_array_equal(ja.prelu(x, keras_alpha), want)
    np.testing.assert_array_equal(ja.prelu(x, jnp.array([0.1]), axis=1),
                                  ja.prelu(x, 0.1))  # one shared slope, torch's default


def test_prelu_alpha_gradient_is_exact():
    x = jnp.array([[-2.0, 0.0, 3.0], [-0.5, -0.0, -1.0]])
    ga = jax.grad(lambda a: ja.prelu(x, a, axis=1).sum())(jnp.array([0.1, 0.2, 0.3]))
    np.testing.assert_array_equal(ga, [-2.5, 0.0, -1.0])  # sum of x [x < 0] per channel
    gx = jax.grad(lambda x: ja.prelu(x, 0.25).sum())(x)
    np.testing.assert_array_equal(gx, [[0.25, 1.0, 1.0], [0.25, 1.0, 0.25]])  # 1 at 0
    with jax.enable_x64(True):
        x64 = jnp.array([[-2.0, 0.5, 3.0], [-0.5, 1.5, -1.0]], jnp.float64)
        a64 = jnp.array([0.1, 0.2, 0.3], jnp.float64)
        check_grads(lambda x, a: ja.prelu(x, a, axis=1), (x64, a64), order=2,
                    modes=("fwd", "rev"))


def test_prelu_residuals():
    x = jax.ShapeDtypeStruct((256, 8), jnp.float32)
    mine = [r for r in residuals(lambda x: ja.prelu(x, 0.25), x) if r["depends_on_x"]]
    assert [r["dtype"] for r in mine] == ["bool"]  # the mask only


@pytest.mark.parametrize(
    ("shape", "alpha", "axis"),
    [((2, 3), np.ones(4), 1), ((2, 3), np.ones((3, 1)), 1), ((2, 3), np.ones(2), None),
     ((2, 3), np.ones((1, 2, 3)), None)],
)
def test_prelu_bad_alpha_shapes(shape, alpha, axis):
    with pytest.raises(ValueError, match="alpha"):
        ja.prelu(jnp.ones(shape), jnp.asarray(alpha), axis=axis)


def test_prelu_bad_axis():
    with pytest.raises(ValueError, match="axis"):
        ja.prelu(jnp.ones((2, 3)), jnp.ones(3), axis=2)
    with pytest.raises(TypeError, match="axis"):
        ja.prelu(jnp.ones((2, 3)), jnp.ones(3), axis=1.0)


# --- crelu ----------------------------------------------------------------------------


def test_crelu_values_axes_and_gradients():
    x = jnp.array([[-1.0, 0.0, 2.0], [3.0, -4.0, NAN]])
    y = ja.crelu(x)
    np.testing.assert_array_equal(y, [[0, 0, 2, 1, 0, 0], [3, 0, NAN, 0, 4, NAN]])
    np.testing.assert_array_equal(ja.crelu(x, axis=0)[2:], [[1, 0, 0], [0, 4, NAN]])
    assert ja.crelu(jnp.array([-2, 3])).dtype == jnp.int32
    w = jnp.arange(1.0, 7.0)
    g = jax.grad(lambda x: jnp.sum(ja.crelu(x) * w))(jnp.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [-4.0, 0.0, 3.0])  # relu'(0) = 0 in both halves
    with jax.enable_x64(True):
        check_grads(ja.crelu, (jnp.array([-1.5, 0.3, 2.0], jnp.float64),), order=2,
                    modes=("fwd", "rev"))


def test_crelu_dtypes_residuals_and_errors():
    x = jnp.linspace(-3.0, 3.0, 8)
    np.testing.assert_array_equal(ja.crelu(x.astype(jnp.bfloat16)),
                                  ja.crelu(x).astype(jnp.bfloat16))
    spec = jax.ShapeDtypeStruct((256, 8), jnp.float32)
    saved = [r for r in residuals(ja.crelu, spec) if r["depends_on_x"]]
    nbytes = sum(r["size"] * np.dtype(r["dtype"]).itemsize for r in saved)
    assert nbytes <= 256 * 8 * 4 / 2  # two boolean masks: half of x's bytes
    assert jax.make_jaxpr(lambda: ja.crelu(jnp.ones((10**12, 2))))() is not None
    with pytest.raises(ValueError, match="axis"):
        ja.crelu(1.0)
    with pytest.raises(ValueError, match="axis"):
        ja.crelu(jnp.ones((2, 2)), axis=2)
    with pytest.raises(TypeError, match="'x'"):
        ja.crelu([1.0, 2.0])


# --- relu_general -----------------------------------------------------------------------


def keras_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """keras.activations.relu (Keras 3, keras/src/activations/activations.py), in NumPy."""
    x = np.asarray(x, np.float64)
    negative_part = np.maximum(threshold - x, 0) if negative_slope != 0 else 0.0
    y = x * (x > threshold) if threshold != 0 else np.maximum(x, 0)
    if max_value is not None:
        y = np.clip(y, 0, max_value)
    return y - negative_slope * negative_part


@pytest.mark.parametrize("s", [0.0, 0.1])
@pytest.mark.parametrize("m", [None, 0.0, 4.0, 6.0])
@pytest.mark.parametrize("t", [0.0, 0.5, -1.0, 5.0])
def test_relu_general_matches_keras(s, m, t):
    x = np.float32(np.concatenate([np.linspace(-8, 8, 65), [t, m or 0.0, -1e30, 1e30]]))
    got = np.asarray(ja.relu_general(x, negative_slope=s, max_value=m, threshold=t))
    np.testing.assert_allclose(got, keras_relu(x, s, m, t), rtol=3e-7, atol=0)


def test_relu_general_conventions():
    x = jnp.array([-2.0, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0])
    g = grad(lambda v: ja.relu_general(v, negative_slope=0.1, max_value=6.0, threshold=1.0), x)
    np.testing.assert_allclose(g, [0.1, 0.1, 0.1, 0.1, 1.0, 0.0, 0.0])  # s at t, 0 at m
    # defaults: relu exactly, with relu'(0) = 0; integers stay integers
    np.testing.assert_array_equal(ja.relu_general(x), ja.relu(x))
    np.testing.assert_array_equal(grad(ja.relu_general, x), grad(ja.relu, x))
    assert ja.relu_general(jnp.array([-2, 3])).dtype == jnp.int32
    np.testing.assert_array_equal(ja.relu_general(jnp.array([-INF, NAN])), [0.0, NAN])
    # the partials in the parameters
    ds, dt, dm = jax.grad(lambda s, t, m: jnp.sum(ja.relu_general(
        x, negative_slope=s, threshold=t, max_value=m)), argnums=(0, 1, 2))(0.1, 1.0, 6.0)
    assert (float(ds), float(dt), float(dm)) == pytest.approx((-4.5, -0.4, 2.0))
    with pytest.raises(ValueError, match="max_value"):
        ja.relu_general(x, max_value=-1.0)
