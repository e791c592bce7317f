"""jaxact/_expm1.py: the hand-reduced exponential under tanh, sigmoid and silu.

The functions themselves are checked against mpmath and over every float32 elsewhere
(test_accuracy.py, test_exhaustive.py); here the pieces and the edges a CPU cannot show
through the public functions (XLA flushes subnormal results to 0 on a CPU, not on a
GPU, so "exactly 0 at -inf" is checked on the intermediate that makes it so).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxact import _expm1


def _ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.abs(got - ref) / np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("shift", [0, 1, 7])
def test_exp2_parts_reconstructs_exp(shift: int) -> None:
    a = np.linspace(-40.0, 43.0, 200_001, dtype=np.float32)  # 2^(n - shift) normal
    scale, h = jax.jit(lambda v: _expm1.exp2_parts(v, shift=shift))(a)
    got = np.asarray(scale, np.float64) * 2.0**shift * (1.0 + 2.0 * np.asarray(h, np.float64))
    assert _ulps(got, np.exp(2.0 * a.astype(np.float64))).max() < 1.0


def test_h_is_expm1_near_zero() -> None:
    a = np.linspace(-0.17, 0.17, 100_001, dtype=np.float32)
    a = a[a != 0]
    scale, h = jax.jit(_expm1.exp2_parts)(a)
    assert np.all(np.asarray(scale) == 1.0)
    assert _ulps(np.asarray(h, np.float64), np.expm1(2.0 * a.astype(np.float64)) / 2).max() < 1.0


def test_powers_of_two_at_the_clips() -> None:
    # sigmoid's and sech^2's (1 + e^{2a})/2 is inf at the clip (2^(n-1) = inf), so 0.5 / it
    # is 0, not the subnormal a finite value would give on a GPU; silu's scaled power too
    assert np.isinf(_expm1._scaled_1p_exp(jnp.float32(_expm1._CLIP), 1))
    assert np.isinf(_expm1._scaled_1p_exp(jnp.float32(46.7), 7))
    assert np.isfinite(_expm1._scaled_1p_exp(jnp.float32(46.6), 7))  # x = -93.2
    assert _expm1.exp2_parts(jnp.float32(_expm1._TANH_CLIP))[0] == 2.0**26


def test_limits_and_signs() -> None:
    x = jnp.array([-jnp.inf, -0.0, 0.0, jnp.inf, jnp.nan], jnp.float32)
    t = np.asarray(_expm1.tanh_value(x))
    assert list(t[:4]) == [-1.0, 0.0, 0.0, 1.0] and np.signbit(t[1]) and np.isnan(t[4])
    s = np.asarray(_expm1.sigmoid_value(x))
    assert list(s[:4]) == [0.0, 0.5, 0.5, 1.0] and np.isnan(s[4])
    for f in (_expm1.sigmoid_slope, _expm1.sech2):
        d = np.asarray(f(x))
        assert d[0] == 0.0 and d[3] == 0.0 and np.isnan(d[4])
    y = np.asarray(_expm1.silu_value(x))
    assert y[0] == 0.0 and y[3] == np.inf and np.isnan(y[4])
    # x e^x is normal down to x = -92, where e^-x / 2 alone has overflowed
    assert _expm1.silu_value(jnp.float32(-91.5)) == pytest.approx(-91.5 * np.exp(-91.5), rel=1e-6)


def test_second_derivatives_follow_the_rules() -> None:
    x = jnp.float32(0.7)
    t, s = np.tanh(0.7), 1.0 / (1.0 + np.exp(-0.7))
    assert jax.grad(jax.grad(_expm1.tanh_value))(x) == pytest.approx(-2 * t * (1 - t * t), rel=1e-5)
    assert jax.grad(jax.grad(_expm1.sigmoid_value))(x) == pytest.approx(s * (1 - s) * (1 - 2 * s),
                                                                        rel=1e-5)
