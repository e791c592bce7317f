"""Type-checker fixture: how jaxact's public API reads to pyright (see tests/test_typing.py).

Nothing here runs: the checks live in functions that are never called. Each
``# pyright: ignore[rule]`` marks a line that MUST be an error of that rule; the
configuration sets ``reportUnnecessaryTypeIgnoreComment``, so the test fails as soon as
such a line stops being an error (a signature that got too loose) and, like any other
error, when a correct call stops type-checking (a signature that got too strict).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from typing_extensions import assert_type

import jaxact as ja


def functional_calls_return_arrays() -> None:
    x = jnp.linspace(-3.0, 3.0, 7)
    assert_type(ja.gelu(x), jax.Array)
    assert_type(ja.gelu(x, approximate=False), jax.Array)
    assert_type(ja.gelu(x, False), jax.Array)  # positional, as jax.nn allows
    assert_type(ja.relu(x), jax.Array)
    assert_type(ja.sigmoid(0.5), jax.Array)  # Python scalars are ArrayLike
    assert_type(ja.tanh(np.ones(3, np.float32)), jax.Array)  # so are NumPy arrays
    assert_type(ja.silu(x, beta=2.0), jax.Array)
    assert_type(ja.swish(x), jax.Array)
    assert_type(ja.softplus(x, beta=2.0, threshold=20.0), jax.Array)
    assert_type(ja.elu(x, alpha=0.5), jax.Array)
    assert_type(ja.leaky_relu(x, 0.2), jax.Array)
    assert_type(ja.hard_tanh(x, min_val=-2.0, max_val=2.0), jax.Array)
    assert_type(ja.glu(jnp.ones((2, 4)), axis=-1), jax.Array)
    assert_type(ja.softmax(x, axis=-1), jax.Array)
    assert_type(ja.log_softmax(x, where=x > 0), jax.Array)


def wrong_calls_are_errors() -> None:
    x = jnp.ones(3)
    ja.gelu(x, approx=True)  # pyright: ignore[reportCallIssue]
    ja.softplus(x, 2.0)  # pyright: ignore[reportCallIssue]  (beta is keyword-only)
    ja.silu(x, 2.0)  # pyright: ignore[reportCallIssue]  (beta is keyword-only)
    ja.relu(x, x)  # pyright: ignore[reportCallIssue]
    ja.relu("x")  # pyright: ignore[reportArgumentType]
    ja.relu()  # pyright: ignore[reportCallIssue]


def registry_helpers() -> None:
    act = ja.get("gelu")
    assert_type(act, Callable[..., Any])
    assert_type(ja.get(None), Callable[..., Any])
    assert_type(ja.get(jax.nn.relu), Callable[..., Any])
    assert_type(ja.names(), list[str])
    assert_type(ja.names(kind="elementwise"), list[str])
    ja.names(kind="pointwise")  # pyright: ignore[reportArgumentType]
    entry = ja.entry("swish")
    assert_type(entry, ja.Entry)
    assert_type(entry.name, str)
    assert_type(entry.bounded, bool)
    mine = ja.Entry("mine", lambda x: x, "elementwise", "x", "1", source="user")
    assert_type(ja.register(mine), ja.Entry)
    ja.get(3)  # pyright: ignore[reportArgumentType]
