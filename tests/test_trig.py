"""jaxact._trig: its own sin and cos against float64, and the switch between them and XLA's.

The periodic activations' accuracy over their reference grids (both paths) is in
tests/test_accuracy.py; here the building block itself is checked densely.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxact import _trig


def _phases() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    p = np.concatenate([
        rng.uniform(-_trig.BOUND, _trig.BOUND, 2**17),
        rng.uniform(-4.0, 4.0, 2**15),
        np.arange(-2608, 2609) * np.float32(np.pi / 2),  # the quadrant edges
        [0.0, -0.0, _trig.BOUND, -_trig.BOUND],
    ]).astype(np.float32)
    e = (rng.uniform(-0.5, 0.5, p.size) * np.spacing(np.abs(p))).astype(np.float32)
    return p, e


@pytest.mark.parametrize("which", ["sin", "cos"])
def test_sin_cos_against_float64(which: str) -> None:
    """hi + lo within 0.3 ulp of sin (cos) of p + e, and hi + lo rounded within one,
    units floored at 2^-40 |p| (the reduction's absolute error is ~1e-13)."""
    p, e = _phases()
    sh, sl, ch, cl = (np.asarray(v, np.float64) for v in jax.jit(_trig.sin_cos)(p, e))
    hi, lo = (sh, sl) if which == "sin" else (ch, cl)
    exact = (np.sin if which == "sin" else np.cos)(p.astype(np.float64) + e)
    unit = np.maximum(np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64),
                      2.0**-40 * np.abs(p))
    assert np.max(np.abs(hi + lo - exact) / unit) < 0.3
    rounded = (hi + lo).astype(np.float32).astype(np.float64)
    assert np.max(np.abs(rounded - exact) / unit) < 1.0


def test_dispatch_takes_own_within_the_bound_and_xla_beyond() -> None:
    def parts(sincos: _trig.SinCos, x: jax.Array) -> tuple[jax.Array, ...]:
        sh, sl, _, _ = sincos(x, jnp.zeros_like(x), small=True)
        return (sh + sl,)

    run = jax.jit(_trig.dispatch(parts, lambda x: x))
    own = jax.jit(lambda x: parts(_trig.sin_cos, x))
    xla = jax.jit(lambda x: parts(_trig.xla_sin_cos, x))
    x = jnp.linspace(-100.0, 100.0, 4001)
    if jax.default_backend() == "cpu":
        np.testing.assert_array_equal(run(x)[0], own(x)[0])
        assert (np.asarray(own(x)[0]) != np.asarray(xla(x)[0])).any()
    else:  # other platforms keep XLA's
        np.testing.assert_array_equal(run(x)[0], xla(x)[0])
    for big in (_trig.BOUND * 1.01, jnp.inf, jnp.nan):
        x_big = x.at[7].set(big)
        np.testing.assert_array_equal(run(x_big)[0], xla(x_big)[0])
