"""Every layer under JAX and Flax transformations, and the dtype rules (promote_dtype)."""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from test_layers import CASES, IDS, Case, X, _perturbed

import jaxact as ja
import jaxact.linen as jlinen
import jaxact.nnx as jnnx

XS = jnp.stack([X, 0.25 - 0.5 * X])  # two inputs of X's shape, mapped over axis 0
# jit fuses differently from eager: agreement to a few float32 ulps, not bit for bit
close = functools.partial(np.testing.assert_allclose, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_nnx_layers_under_transformations(case: Case) -> None:
    layer, _ = _perturbed(case)
    expected = jnp.stack([layer(x) for x in XS])
    graphdef, state = nnx.split(layer)
    close(jax.jit(lambda s, x: nnx.merge(graphdef, s)(x))(state, XS[0]), expected[0])
    close(jax.vmap(layer)(XS), expected)
    close(nnx.jit(lambda m, x: m(x))(layer, XS[1]), expected[1])

    @nnx.scan(in_axes=(None, 0), out_axes=0)
    def scanned(m: nnx.Module, x: jax.Array) -> jax.Array:
        return m(x)

    close(scanned(layer, XS), expected)


class _Step(nn.Module):
    """``layer`` as an ``nn.scan`` body: the carry passes through."""

    layer: nn.Module

    def __call__(self, carry: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        return carry, self.layer(x)


class _Map(nn.Module):
    layer: nn.Module

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.layer(x)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_linen_layers_under_transformations(case: Case) -> None:
    layer, params = _perturbed(case)  # linen runs nnx's parameters: same outputs expected
    expected = jnp.stack([layer(x) for x in XS])
    module = case.make_linen()
    variables = {"params": case.to_linen(params)}
    close(jax.jit(module.apply)(variables, XS[0]), expected[0])

    scan = nn.scan(_Step, variable_broadcast="params", split_rngs={"params": False})
    stack = scan(case.make_linen())
    nested = {"params": {"layer": variables["params"]}}
    initial = stack.init(jax.random.key(0), 0.0, XS)
    assert jax.tree.map(jnp.shape, initial) == jax.tree.map(jnp.shape, nested)
    close(jax.jit(stack.apply)(nested, 0.0, XS)[1], expected)

    vmap = nn.vmap(_Map, variable_axes={"params": None}, split_rngs={"params": False}, in_axes=0)
    mapped = vmap(case.make_linen())
    assert jax.tree.map(jnp.shape, mapped.init(jax.random.key(0), XS)) == jax.tree.map(
        jnp.shape, nested
    )
    close(mapped.apply(nested, XS), expected)


def test_dtypes() -> None:
    layer = jnnx.Snake(dtype=jnp.bfloat16, param_dtype=jnp.float32, rngs=nnx.Rngs(0))
    assert layer.a[...].dtype == jnp.float32
    assert layer(X).dtype == jnp.bfloat16
    assert jnnx.PELU(rngs=nnx.Rngs(0))(X.astype(jnp.float16)).dtype == jnp.float32
    module = jlinen.PELU(param_dtype=jnp.bfloat16)
    variables = module.init(jax.random.key(0), X)
    assert variables["params"]["a"].dtype == jnp.bfloat16
    assert module.apply(variables, X).dtype == jnp.float32


def _keep_input_dtype(
    args: tuple[Any, ...], /, *, dtype: Any = None, inexact: bool = True
) -> tuple[jax.Array, ...]:
    """A custom promote_dtype: everything in the input's dtype (nnx's calling convention)."""
    del inexact
    target = dtype or jnp.asarray(args[0]).dtype
    return tuple(jnp.asarray(a, target) for a in args)


NNX_PROMOTED = {
    "srelu": lambda p: jnnx.SReLU(promote_dtype=p, rngs=nnx.Rngs(0)),
    "prelu_shared": lambda p: jnnx.PReLU(
        shared_axes=(1,), in_features=(3, 4), promote_dtype=p, rngs=nnx.Rngs(0)
    ),
    "meta_acon": lambda p: jnnx.MetaAcon(4, promote_dtype=p, rngs=nnx.Rngs(0)),
    "maxout": lambda p: jnnx.Maxout(4, 3, promote_dtype=p, rngs=nnx.Rngs(0)),
    "activation": lambda p: jnnx.Activation(
        "elu", learnable=("alpha",), promote_dtype=p, rngs=nnx.Rngs(0)
    ),
}


@pytest.mark.parametrize("name", NNX_PROMOTED)
def test_nnx_promote_dtype(name: str) -> None:
    x = X.astype(jnp.bfloat16)
    assert NNX_PROMOTED[name](nnx.nn.dtypes.promote_dtype)(x).dtype == jnp.float32  # default
    calls = []

    def promote(args: tuple[Any, ...], /, **kwargs: Any) -> tuple[jax.Array, ...]:
        calls.append([jnp.asarray(a).dtype for a in args])
        return _keep_input_dtype(args, **kwargs)

    layer = NNX_PROMOTED[name](promote)
    out = layer(x)
    assert out.dtype == jnp.bfloat16
    assert calls and all(c[0] == jnp.bfloat16 and jnp.float32 in c[1:] for c in calls), calls
    # the same computation by hand, with the parameters cast to bfloat16
    state = nnx.state(layer, nnx.Param)
    reference = nnx.clone(layer)
    nnx.update(reference, jax.tree.map(lambda v: v.astype(jnp.bfloat16), state))
    np.testing.assert_array_equal(out, reference(x))
    assert reference(x).dtype == jnp.bfloat16


def test_linen_promote_dtype() -> None:
    x = X.astype(jnp.bfloat16)
    calls = []

    def promote(*args: Any, dtype: Any = None, inexact: bool = True) -> list[jax.Array]:
        calls.append(len(args))
        return list(_keep_input_dtype(args, dtype=dtype, inexact=inexact))

    module = jlinen.PReLU(shared_axes=(2,), promote_dtype=promote)
    variables = module.init(jax.random.key(0), x)
    assert variables["params"]["alpha"].dtype == jnp.float32
    out = module.apply(variables, x)
    assert out.dtype == jnp.bfloat16 and calls == [2, 2]
    alpha = variables["params"]["alpha"].astype(jnp.bfloat16)
    np.testing.assert_array_equal(out, ja.prelu(x, alpha))
    assert jlinen.PReLU(shared_axes=(2,)).apply(variables, x).dtype == jnp.float32
