"""The GLU family (jaxact/_glu.py): the generic checks of tests/test_properties.py, done
here because the gated functions change shape, plus accuracy and the two-input form.

References are float64 evaluations (under ``jax.enable_x64``) of the textbook formulas
at the same float32 inputs, with gates written in their non-cancelling forms (sigmoid
for the tanh GELU, erfc for the exact one); gradients are ``jax.grad`` of those.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import erfc
from jax.test_util import check_grads
from jax.typing import ArrayLike

import jaxact as ja
from jaxact._bench import residuals

EPS = 2.0**-24
TINY = 2.0**-126


def _sigmoid64(b):
    # jax.nn.sigmoid's derivative is s (1 - s), which cancels to 0 beyond b = 37 even in
    # float64; the branch forms below differentiate without cancellation.
    e = jnp.exp(-jnp.abs(b))
    return jnp.where(b >= 0, 1 / (1 + e), e / (1 + e))


def _gelu_tanh64(b):
    u2 = 2 * np.sqrt(2 / np.pi) * (b + 0.044715 * b**3)
    return b * _sigmoid64(u2)


REFERENCE = {  # name -> (jaxact call, float64 reference of (a, b))
    "glu": (ja.glu, lambda a, b: a * _sigmoid64(b)),
    "reglu": (ja.reglu, lambda a, b: a * jnp.where(b > 0, b, 0.0)),  # relu'(0) = 0
    "geglu": (ja.geglu, lambda a, b: a * _gelu_tanh64(b)),
    "geglu-exact": (functools.partial(ja.geglu, approximate=False),
                    lambda a, b: a * b / 2 * erfc(-b / np.sqrt(2.0))),
    "swiglu": (ja.swiglu, lambda a, b: a * b * _sigmoid64(b)),
    "bilinear": (ja.bilinear, lambda a, b: a * b),
}
GATED = sorted({"glu", "reglu", "geglu", "swiglu", "bilinear"})


def test_family_is_registered_as_gated():
    assert set(GATED) <= set(ja.names(kind="gated"))
    for name in GATED:
        assert ja.entry(name).kind == "gated"
        assert "arXiv" in ja.entry(name).reference


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    """Values a and gates b: random, b over the tails (-90..90) and near 0, and huge |a|
    against the deep tails where g(b) alone is subnormal but a g(b) is not (sigmoid and
    silu down to b = -200, both GELU forms from -9 to -19.5)."""
    rng = np.random.default_rng(5)
    b = np.concatenate([rng.normal(0, 3, 400), np.linspace(-90, 90, 361),
                        [0.0, -0.0, 1e-30, -1e-30, -1.2784645, -0.7517916]])
    a = rng.normal(0, 2, b.size) * np.exp(rng.uniform(-5, 5, b.size))
    deep = np.concatenate([np.linspace(-200, -60, 281), np.linspace(-19.5, -9, 211),
                           np.linspace(60, 110, 51)])  # a sigmoid'(b) ~ a e^-b for glu
    huge = rng.choice([-1, 1], deep.size) * 10.0 ** rng.uniform(10, 38.5, deep.size)
    return (np.concatenate([a, huge]).astype(np.float32),
            np.concatenate([b, deep]).astype(np.float32))


def _errors(got: np.ndarray, ref: np.ndarray, scale: np.ndarray, cot: ArrayLike = 1.0
            ) -> np.ndarray:
    """|got - ref| in units of max(ulp(ref), scale 2^-24), ``ref = cot * partial``.

    As in test_accuracy.py a subnormal truth may come back as 0 (for a gradient also
    a subnormal partial, whatever the cotangent ``cot``), and a truth beyond float32's
    range must come back as the infinity of its sign.
    """
    big = np.finfo(np.float32).max
    top = np.minimum(np.abs(ref), 2.0**127)  # same ulp up to the largest float32
    ulp = np.spacing(top.astype(np.float32)).astype(np.float64)
    unit = np.maximum(ulp, np.abs(scale) * EPS)
    diff = np.abs(got.astype(np.float64) - ref)
    err = diff / unit
    tiny = np.maximum(np.abs(cot), 1.0) * TINY
    err[(np.abs(ref) < tiny) & (np.abs(got) <= tiny)] = 0.0
    err[(np.abs(ref) > big) & (got == np.copysign(np.inf, ref))] = 0.0
    return err


def _reference(ref, a, b, w):
    """float64: value, b d/db of it, both partials (cotangent w), and b d/db of the b
    partial (the conditioning near zeros of g')."""
    r, db_scaled = jax.jvp(ref, (a, b), (jnp.zeros_like(a), b))
    ra = jax.grad(lambda a: jnp.vdot(w, ref(a, b)))(a)
    grad_b = jax.grad(lambda b: jnp.vdot(w, ref(a, b)))
    rb, rb_scaled = jax.jvp(grad_b, (b,), (b,))
    return r, db_scaled, ra, rb, rb_scaled


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_values_and_gradients_against_float64(case):
    """Values within 4 units and both partials within 8, the units of test_accuracy.py
    (the conditioning unit uses b times the derivative in b: a product's relative error
    is its factors')."""
    fn, ref = REFERENCE[case]
    a, b = _inputs()
    w = np.random.default_rng(1).normal(size=a.size).astype(np.float32)  # cotangent
    y, pull = jax.vjp(lambda a, b: fn(a, b) if case != "glu" else fn(a, gate=b), a, b)
    ga, gb = (np.asarray(v) for v in pull(jnp.asarray(w)))
    with jax.enable_x64(True):
        refs = jax.jit(functools.partial(_reference, ref))(
            *(jnp.asarray(v, jnp.float64) for v in (a, b, w)))
        r, db_scaled, ra, rb, rb_scaled = (np.asarray(v) for v in refs)
    assert np.max(_errors(np.asarray(y), r, db_scaled)) <= 4
    assert np.max(_errors(ga, ra, np.zeros_like(ra), w)) <= 8  # w g(b): plain ulps
    assert np.max(_errors(gb, rb, rb_scaled, w)) <= 8


@pytest.mark.parametrize("name", GATED)
def test_split_form_equals_two_input_form_on_any_axis(name):
    f = ja.get(name)
    x = jax.random.normal(jax.random.key(0), (4, 6, 3))
    a, b = jnp.split(x, 2, axis=1)
    np.testing.assert_array_equal(f(x, axis=1), f(a, gate=b))
    np.testing.assert_array_equal(f(x, axis=-2), f(x, axis=1))
    last = jnp.moveaxis(x, 1, -1)
    np.testing.assert_array_equal(jnp.moveaxis(f(last), -1, 1), f(x, axis=1))


@pytest.mark.parametrize("name", GATED)
@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_low_precision_is_float32_rounded_once(name, dtype):
    f = ja.get(name)
    x = jnp.linspace(-12, 12, 480).reshape(8, 60).astype(dtype)
    got = f(x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(np.asarray(got, np.float32),
                                  np.asarray(f(x.astype(jnp.float32)).astype(dtype), np.float32))


@pytest.mark.parametrize("name", GATED)
def test_dtypes_and_promotion(name):
    f = ja.get(name)
    assert f(jnp.ones(4, jnp.float32)).dtype == jnp.float32
    assert f(jnp.arange(4)).dtype == jnp.float32  # integers promote
    assert f(jnp.ones(2, jnp.bfloat16), gate=jnp.ones(2, jnp.float32)).dtype == jnp.float32
    with jax.enable_x64(True):
        x = jnp.linspace(-3, 3, 8, dtype=jnp.float64)
        assert f(x).dtype == jnp.float64
        np.testing.assert_allclose(f(x), f(x.astype(jnp.float32)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", GATED)
def test_one_full_size_residual(name):
    spec = jax.ShapeDtypeStruct((512, 16), jnp.float32)
    saved = [r for r in residuals(ja.get(name), spec) if r["depends_on_x"]]
    assert sum(r["size"] for r in saved) <= 512 * 16


@pytest.mark.parametrize("name", GATED)
def test_two_input_form_residuals(name):
    f = ja.get(name)
    a = b = jax.ShapeDtypeStruct((512, 8), jnp.float32)
    closed = jax.make_jaxpr(lambda a, b: jax.vjp(lambda a, b: f(a, gate=b), a, b)[1])(a, b)
    # the residuals are the leaves of the returned vjp closure
    sizes = [int(np.prod(v.aval.shape)) for v in closed.jaxpr.outvars
             if hasattr(v, "aval") and v.aval.shape]
    assert sum(sizes) <= 512 * 8 * 2  # a and b together: one array of x's size


@pytest.mark.parametrize("name", GATED)
def test_jit_vmap_and_second_derivatives(name):
    f = ja.get(name)
    x = jnp.linspace(-3.0, 3.0, 48).reshape(6, 8)
    np.testing.assert_array_equal(jax.jit(f)(x), f(x))
    np.testing.assert_array_equal(jax.vmap(f)(x), f(x))
    with jax.enable_x64(True):
        x64 = jnp.array([[-2.3, 0.4, -0.7, 1.9], [4.6, -1.1, 0.3, 2.2]], jnp.float64)
        check_grads(jax.jit(f), (x64,), order=2, modes=("fwd", "rev"))  # both halves


@pytest.mark.parametrize("name", GATED)
def test_shape_errors_name_axis_or_gate(name):
    f = ja.get(name)
    with pytest.raises(ValueError, match="axis 1 has odd size 3"):
        f(jnp.ones((2, 3)), axis=1)
    with pytest.raises(ValueError, match="axis"):
        f(jnp.ones((2, 4)), axis=2)
    with pytest.raises(ValueError, match="gate"):
        f(jnp.ones((2, 4)), gate=jnp.ones((2, 2)))
    with pytest.raises(TypeError, match="axis"):
        f(jnp.ones((2, 4)), axis=1.0)


@pytest.mark.parametrize("name", GATED)
@pytest.mark.parametrize("bad", [jnp.ones(2, jnp.complex64), [1.0, 2.0], "x", None])
def test_bad_input_types(name, bad):
    with pytest.raises(TypeError, match="'x'"):
        ja.get(name)(bad)
    with pytest.raises(TypeError, match="'gate'"):
        ja.get(name)(jnp.ones(2), gate=bad if bad is not None else "g")


@pytest.mark.parametrize("name", GATED)
def test_huge_input_is_only_traced(name):
    f = ja.get(name)
    assert jax.make_jaxpr(lambda: f(jnp.ones((10**12, 2))))() is not None
    assert jax.make_jaxpr(lambda: f(jnp.ones((10**12,)), gate=jnp.ones((10**12,))))() is not None


def test_geglu_forms_and_tails():
    x = jnp.array([[1.0, 1.0, 1.0, -1.0, 0.0, -30.0]])
    # within an ulp, not equal: gelu's kernel takes jaxact's own exponential (_expm1),
    # GEGLU's the scaled ("deep") one on XLA's exp (at -1: gelu correctly rounded, GEGLU
    # one ulp off)
    np.testing.assert_allclose(ja.geglu(x), ja.gelu(x[:, 3:]) * x[:, :3], rtol=1.2e-7, atol=0)
    np.testing.assert_array_equal(ja.geglu(x, approximate=False),
                                  ja.gelu(x[:, 3:], approximate=False) * x[:, :3])
    with pytest.raises(TypeError, match="approximate"):
        ja.geglu(x, approximate="no")
    # the deep negative tail is a tiny number, not 0: swish(-30) = -2.8e-12
    assert float(ja.swiglu(jnp.array([1.0, -30.0]))[0]) == pytest.approx(-30 / (1 + np.exp(30)))


def test_glu_keeps_jax_nn_signature_and_values():
    x = jax.random.normal(jax.random.key(2), (3, 8))
    np.testing.assert_allclose(ja.glu(x, -1), jax.nn.glu(x, -1), rtol=2e-7)
    np.testing.assert_allclose(ja.glu(x.T, 0), jax.nn.glu(x.T, 0), rtol=2e-7)


TAILS = [  # case, a, b, then a g(b) and a g'(b) from mpmath (at the float32 a and b)
    ("glu", 10.0, -88.0, 6.0546019e-38, 6.0546019e-38),
    ("glu", 3e38, -170.0, 4.436692525e-36, 4.436692525e-36),
    ("swiglu", 1e30, -160.0, -5.21198173e-38, -5.179406844e-38),
    ("geglu-exact", 1e10, -13.5, -1.055538986e-30, -1.424894091e-29),
    ("geglu", 3e38, -12.9, -1.329934634e-36, -4.939471995e-35),
]


@pytest.mark.parametrize(("case", "a", "b", "value", "slope"), TAILS)
def test_product_stays_normal_where_the_gate_is_subnormal(case, a, b, value, slope):
    """g(b) alone is subnormal (flushed to 0 by XLA), a g(b) and a g'(b) are not: both
    come back to float32 accuracy."""
    fn = REFERENCE[case][0]
    call = (lambda a, b: fn(a, gate=b)) if case == "glu" else fn
    a, b = jnp.array([a]), jnp.array([b])
    np.testing.assert_allclose(np.asarray(call(a, b), np.float64), [value], rtol=4 * EPS)
    db = jax.grad(lambda b: call(a, b).sum())(b)
    np.testing.assert_allclose(np.asarray(db, np.float64), [slope], rtol=8 * EPS)
