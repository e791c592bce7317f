"""softmin against mpmath (softmax of -x, on the row sets of tests/cases.py), and the
``dtype=`` option of softmax, log_softmax and softmin (torch semantics)."""

from __future__ import annotations

import inspect

import cases
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_sparse import check_against, simplex_reference

import jaxact as ja
from jaxact import _normalizers

softmin = _normalizers.softmin


@pytest.mark.parametrize("rows", ["special3", "random64", "pair2", "masked7"])
def test_softmin_against_mpmath(rows: str) -> None:
    """Values <= 4 and VJPs <= 8 units (tests/test_accuracy.py's), the reference being
    the exact softmax of -x: J = -(diag(p) - p p^T)."""
    r = cases.ROWS[rows]
    where = np.ones(r.x.shape, bool) if r.where is None else r.where
    ref = simplex_reference(r.x, where, 1.0, r.g, sign=-1.0)

    @jax.jit
    def run(x: jax.Array, w: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array]:
        y, pull = jax.vjp(lambda x: softmin(x, where=w), x)
        return y, pull(g)[0]

    y, vjp = run(*map(jnp.asarray, (r.x, where, r.g)))
    names = [f"{rows}[{i}]" for i in range(len(r.x))]
    got = dict(value=np.asarray(y), vjp=np.asarray(vjp))
    check_against("softmin", cases.RowSet(r.x, where=where), names, got, ref)


def test_softmin_is_softmax_of_minus_x() -> None:
    x = jnp.asarray([[1.0, 2.0, 3.0], [0.0, jnp.inf, 1.0], [-jnp.inf, 0.0, 1.0]])
    w = jnp.asarray([[True, False, True], [True, True, True], [True, True, True]])
    y = softmin(x, where=w)
    np.testing.assert_array_equal(y, ja.softmax(-x, where=w))
    assert float(y[0, 1]) == 0.0 and float(y[1, 1]) == 0.0  # masked; +inf: weight 0
    assert np.isnan(np.asarray(y[2])).all()  # -inf is softmax's +inf: NaN, as torch
    g = jax.grad(lambda x: jnp.sum(softmin(x, axis=(0, 1)) * jnp.arange(9.0).reshape(3, 3)))
    np.testing.assert_allclose(g(x[:1].repeat(3, 0)), -jax.grad(
        lambda x: jnp.sum(ja.softmax(x, axis=(0, 1)) * jnp.arange(9.0).reshape(3, 3)))(
            -x[:1].repeat(3, 0)), rtol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_dtype_casts_the_input_first(name: str) -> None:
    f = getattr(_normalizers, name)
    x = jnp.asarray([[0.1, -2.0, 3.5], [1.0, 1.0, -30.0]], jnp.bfloat16)
    y = f(x, dtype=jnp.float32)
    assert y.dtype == jnp.float32
    np.testing.assert_array_equal(y, f(x.astype(jnp.float32)))
    assert f(x.astype(jnp.float32), dtype="bfloat16").dtype == jnp.bfloat16
    assert f(jnp.arange(3), dtype=jnp.float16).dtype == jnp.float16
    with jax.enable_x64(True):
        z = f(jnp.asarray([1.0, 2.0], jnp.float32), dtype=jnp.float64)
        assert z.dtype == jnp.float64
    param = inspect.signature(f).parameters["dtype"]
    assert param.kind is inspect.Parameter.KEYWORD_ONLY and param.default is None
    with pytest.raises(ValueError, match="dtype"):
        f(x, dtype=jnp.int32)
    with pytest.raises(TypeError, match="dtype"):
        f(x, dtype="no-such-type")
