"""Parameter values at the edge of their families: degenerate (0, equal or opposite
parameters) and extreme ones, where the mpmath tables of test_accuracy.py (a few
parameter sets each) do not look.

Each case here was once wrong: found by a random-parameter sweep against jaxact in
float64, confirmed with mpmath.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact as ja


def _grad(f, x):
    return np.asarray(jax.vmap(jax.grad(f))(jnp.asarray(x, jnp.float32)))


def test_squareplus_with_b0_is_relu_for_tiny_x():
    # x^2 underflows below |x| = 2^-63: where XLA flushed it (some compilations, e.g.
    # under vmap) the derivative was 1/2 for x > 0 and NaN (0 * inf) for x < 0.
    x = np.array([1e-20, 3e-30, 1e-36, -1e-20, -3e-30, -1e-36], np.float32)
    relu = lambda v: ja.squareplus(v, b=0.0)
    np.testing.assert_array_equal(jax.jit(relu)(x), np.maximum(x, 0))
    np.testing.assert_array_equal(_grad(relu, x), (x > 0).astype(np.float32))
    assert float(jax.grad(relu)(0.0)) == 0.5  # the documented convention at the kink


def test_pelu_forms_the_slope_before_the_product():
    # x/b first overflowed for b < 1 (pelu(2e38, a=b=0.5) was inf) and underflowed for
    # a large b (a = b = 1e10 flushed x below 1e-28)
    assert float(ja.pelu(jnp.float32(2e38), a=0.5, b=0.5)) == pytest.approx(2e38, rel=1e-7)
    assert float(ja.pelu(jnp.float32(1.58e-30), a=1e10, b=1e10)) == pytest.approx(1.58e-30,
                                                                                rel=1e-7)


@pytest.mark.parametrize(("name", "params"), [("erfact", {"alpha": 0.0, "beta": 0.0}),
                                              ("pserf", {"gamma": 0.0, "delta": 0.0})])
def test_a_zero_gate_keeps_nan(name, params):
    # z = 0 makes f = 0 (x = +-inf included), but a NaN input must stay NaN
    out = np.asarray(ja.get(name)(jnp.array([np.nan, np.inf, -np.inf, 2.0]), **params))
    assert np.isnan(out[0]) and np.all(out[1:] == 0)


def test_erfact_with_alpha0_has_a_finite_derivative():
    # alpha = 0: z = 0 for every x, but 2^k (k up to 144) met z1 = 0 in z^2: NaN beyond
    # x = 88.7 / beta
    x = np.array([1.0, 88.0, 89.0, 200.0, 1e30], np.float32)
    np.testing.assert_array_equal(_grad(lambda v: ja.erfact(v, alpha=0.0, beta=0.75), x), 0.0)
