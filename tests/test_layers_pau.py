"""PAU initialisation: the checked-in fits approximate their targets and are reproducible."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erf, expit

import jaxact as ja
from jaxact import _pau

ROOT = Path(__file__).resolve().parents[1]

# Stated max abs error on _pau.INTERVAL = [-3, 3] (README "Flax layers"); ReLU-like targets
# have a kink no rational of degree (5, 4) follows closely.
BOUNDS = {
    "leaky_relu": 0.035,
    "relu": 0.035,
    "gelu": 1e-3,
    "silu": 2e-6,
    "tanh": 5e-6,
    "sigmoid": 1e-6,
}

# float64 references, independent of the fit script's table
REFERENCES = {
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.01 * x),
    "relu": lambda x: np.maximum(x, 0.0),
    "gelu": lambda x: 0.5 * x * (1.0 + erf(x / np.sqrt(2.0))),
    "silu": lambda x: x * expit(x),
    "tanh": np.tanh,
    "sigmoid": expit,
}


def _fit_module():
    spec = importlib.util.spec_from_file_location(
        "fit_rational", ROOT / "tools" / "fit_rational.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fits_meet_stated_bounds_in_float32() -> None:
    names = sorted(BOUNDS)
    assert names == sorted(_pau.COEFFICIENTS)
    x = np.linspace(*_pau.INTERVAL, 1201)
    num = jnp.array([_pau.COEFFICIENTS[n][0] for n in names], jnp.float32)[:, None, :]
    den = jnp.array([_pau.COEFFICIENTS[n][1] for n in names], jnp.float32)[:, None, :]
    y = np.asarray(ja.rational(jnp.asarray(x, jnp.float32), numerator=num, denominator=den))
    for row, name in zip(y, names, strict=True):
        err = np.max(np.abs(row - REFERENCES[name](x)))
        stated = _pau.COEFFICIENTS[name][2]
        assert err <= BOUNDS[name], (name, err)
        assert err <= stated * (1 + 1e-3) + 1e-6, (name, err, stated)  # 4 digits, float32


@pytest.mark.parametrize("name", sorted(_pau.COEFFICIENTS))
def test_fit_script_reproduces_checked_in_numbers(name: str) -> None:
    script = _fit_module()
    coefficients, err = script.fit(name)
    num, den, stated = _pau.COEFFICIENTS[name]
    # The fit is ill-conditioned in its coefficients, not in the function they define: the
    # near-flat directions move coefficients by ~3e-7 between LAPACK builds, the curve by
    # ~2e-9. So the curve is compared tightly and the coefficients loosely.
    x = np.linspace(script.LO, script.HI, script.NUM_POINTS)
    checked_in = script.safe_rational(np.array(num + den), x)
    np.testing.assert_allclose(script.safe_rational(coefficients, x), checked_in, atol=1e-8)
    np.testing.assert_allclose(coefficients, num + den, rtol=0, atol=1e-5)
    assert f"{err:.3e}" == f"{stated:.3e}"
