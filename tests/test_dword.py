"""``jaxact._dword.pow_pair``: u^β as a double-word pair, against mpmath.

α-entmax's Newton residual relies on the pair being far better than float32 (see
``jaxact._sparse``); this pins that down directly, jitted, over a wide range of u and β.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._dword import pow_pair

RNG = np.random.default_rng(7)
U = np.concatenate([
    RNG.random(400).astype(np.float32) ** np.float32(4),  # down to ~1e-12
    np.float32([1.0, 0.5, 0.70710677, 0.7071068, 1.4142135, 2.0, 3.0, 1e-3, 0.9999049]),
])


@pytest.mark.parametrize("beta", [0.5, 1.0 / 1.5, 1.0, 2.0, 4.0, 9.999998, 20.0])
def test_pair_relative_error_below_2_to_minus_25(beta: float) -> None:
    b = np.float32(beta)
    b_lo = np.float32(1e-7 * beta)  # a low word, as entmax passes for 1/(alpha - 1)
    hi, lo = jax.jit(pow_pair)(jnp.asarray(U), jnp.float32(b), jnp.float32(b_lo))
    exponent = mp.mpf(float(b)) + mp.mpf(float(b_lo))
    worst = 0.0
    with mp.workdps(40):
        for u, h, low in zip(U, np.asarray(hi), np.asarray(lo), strict=True):
            true = mp.mpf(float(u)) ** exponent
            if true < 1e-28:  # lo would be subnormal (flushed)
                continue
            worst = max(worst, float(abs(mp.mpf(float(h)) + mp.mpf(float(low)) - true) / true))
    assert worst < 2.0**-25, f"beta={beta}: max relative error 2^{np.log2(worst):.1f}"
