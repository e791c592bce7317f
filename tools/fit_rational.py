"""Fit the (5, 4) safe rational (PAU version B) to named activations; prints ``jaxact/_pau.py``.

Deterministic: a fixed float64 grid on [-3, 3], a linearised least-squares start
(``P - f B = f``, ignoring the absolute value) refined by ``scipy.optimize.least_squares``
on the true safe form ``P / (1 + |B|)``. Run ``python tools/fit_rational.py > jaxact/_pau.py``;
``tests/test_layers_pau.py`` checks the output matches the checked-in file.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares
from scipy.special import erf, expit

LO, HI, NUM_POINTS, M, N = -3.0, 3.0, 2001, 5, 4

TARGETS = {
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.01 * x),
    "relu": lambda x: np.maximum(x, 0.0),
    "gelu": lambda x: 0.5 * x * (1.0 + erf(x / np.sqrt(2.0))),
    "silu": lambda x: x * expit(x),
    "tanh": np.tanh,
    "sigmoid": expit,
}


def safe_rational(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``P(x) / (1 + |B(x)|)`` with ``c = (a_0..a_M, b_1..b_N)``."""
    p = np.polyval(c[: M + 1][::-1], x)
    b = np.polyval(np.concatenate([c[M + 1 :][::-1], [0.0]]), x)
    return p / (1.0 + np.abs(b))


def fit(name: str) -> tuple[np.ndarray, float]:
    """Coefficients and the max abs error on the grid for one target."""
    x = np.linspace(LO, HI, NUM_POINTS)
    f = TARGETS[name](x)
    design = np.concatenate(
        [x[:, None] ** np.arange(M + 1), -f[:, None] * x[:, None] ** np.arange(1, N + 1)], axis=1
    )
    start = np.linalg.lstsq(design, f, rcond=None)[0]
    res = least_squares(
        lambda c: safe_rational(c, x) - f,
        start,
        method="lm",
        xtol=1e-15,
        ftol=1e-15,
        max_nfev=20000,
    )
    return res.x, float(np.max(np.abs(safe_rational(res.x, x) - f)))


def render() -> str:
    """The text of ``jaxact/_pau.py``."""
    lines = [
        '"""(5, 4) safe-rational (PAU) fits, from ``tools/fit_rational.py``; do not edit."""',
        "",
        f"INTERVAL = ({LO!r}, {HI!r})",
        "",
        "# name: (numerator a_0..a_5, denominator b_1..b_4, max abs error on INTERVAL)",
        "COEFFICIENTS = {",
    ]
    for name in TARGETS:
        c, err = fit(name)
        num = ", ".join(f"{v:.10e}" for v in c[: M + 1])
        den = ", ".join(f"{v:.10e}" for v in c[M + 1 :])
        lines.append(f'    "{name}": (({num}), ({den}), {float(f"{err:.3e}")!r}),')
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
