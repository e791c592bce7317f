"""Loops XLA compiles each function into (``jaxact._bench_residuals.kernels``).

An elementwise function at its best is one loop forward (read x, write the value) and
two for a training step (``_bench.training_step``: the value's loop, and one that reads
x and the cotangent and writes the gradient); each further loop writes an intermediate
out and reads it back. XLA's CPU backend does that for an expensive value (an exp, a
division) that several fused computations read, so an innocent rewrite can cost a whole
pass over memory (mish's VJP ran as three loops for ``(4 q) q``, one for ``4 (q q)``;
sigmoid's step was three while its gradient shared the value's exp). Structure, not
timing: the counts are deterministic for a given XLA.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import pytest

import jaxact as ja
from jaxact import _math
from jaxact._bench import training_step
from jaxact._bench_residuals import kernels

X = jax.ShapeDtypeStruct((256, 1024), jnp.float32)
# The counts below are the CPU backend's; GPU fusion follows other rules (unverified here).
pytestmark = pytest.mark.skipif(jax.default_backend() != "cpu",
                                reason="loop counts are checked for XLA's CPU backend")

# Still more than one loop on the CPU, each with intermediates written out (open work):
# compensated sums and scaled tails whose expensive values several branches read.
MULTI_LOOP = {"acon_c", "erfact", "pserf", "rational", "smish", "geglu"}
# jaxact._trig.dispatch: a pass that finds the largest phase, then one loop (jaxact's
# own sin and cos within the bound, XLA's beyond); the step does both twice (the value,
# and the gradient from x behind the recompute barrier).
TRIG = {"gcu", "sine", "snake"}
# Built with ``_math.elementwise(..., recompute=False)``: the training step shares the
# value's intermediates (a log, e^x) with the gradient, written out once, because on CPU
# computing them twice costs more (softplus's step 0.79x, tanhexp 0.71x of the
# recomputing form's time). Up to five loops there, the count measured.
SHARED = {"exponential": 2, "log_sigmoid": 3, "logish": 5, "soft_exponential": 3,
          "softplus": 3, "tanh_shrink": 3, "tanhexp": 5}
SINGLE = [n for n in ja.names(kind="elementwise") if n not in MULTI_LOOP | set(SHARED) | TRIG]
GATED = [n for n in ja.names(kind="gated") if n not in MULTI_LOOP]
# softplus: 3 loops against jax.nn's 2, and faster (jax.nn's is logaddexp, whose value
# and gradient each take a log and an exp).
WITH_JAX_NN = [n for n in ja.names(source="jax.nn")
               if ja.entry(n).kind != "normalizer" and n != "softplus"]


def _fn(name: str):
    entry = ja.entry(name)
    return functools.partial(entry.fn, **entry.sample) if entry.sample else entry.fn


def _loops(f) -> tuple[int, int]:
    ct = jax.ShapeDtypeStruct(jax.eval_shape(f, X).shape, X.dtype)
    return kernels(f, X), kernels(training_step(f), X, ct)


def test_kernels_counts_passes():
    assert kernels(lambda x: jnp.exp(x) * 2.0 + 1.0, X) == 1
    assert kernels(lambda x: x / jnp.sum(x), X) >= 2  # a reduction, then a loop over x
    s = jax.ShapeDtypeStruct((), jnp.float32)  # scalar work on a parameter is no pass
    assert kernels(lambda x, a: x * jnp.log(a) / jnp.exp(a), X, s) == 1
    # a conditional counts as its costliest branch (two loops: the sum, the division)
    branch = lambda x, c: jax.lax.cond(c > 0, lambda v: v / jnp.sum(v), lambda v: v**3, x)
    assert kernels(branch, X, s) == 2


@pytest.mark.parametrize("name", SINGLE)
def test_elementwise_is_one_loop_forward_two_for_a_step(name):
    assert _loops(_fn(name)) == (1, 2)


@pytest.mark.parametrize("name", sorted(TRIG))
def test_periodic_find_their_largest_phase_first(name):
    assert _loops(_fn(name)) == (2, 4)


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_intermediates_as_measured(name):
    assert _loops(_fn(name)) == (1, SHARED[name])


@pytest.mark.parametrize("name", GATED)
def test_gated_writes_at_most_one_intermediate(name):
    # forward one loop; the step: the value, the two halves of the gradient, their
    # concatenation, and at most one gate value both halves read (jax.nn.glu's structure)
    fwd, step = _loops(_fn(name))
    assert fwd == 1 and step <= 5


@pytest.mark.parametrize("name", WITH_JAX_NN)
def test_no_more_loops_than_jax_nn(name):
    ours, theirs = _loops(_fn(name)), _loops(getattr(jax.nn, name))
    assert ours[0] <= theirs[0] and ours[1] <= theirs[1], (ours, theirs)


@pytest.mark.parametrize("parts", [_math.tanh_parts, _math.softplus_parts],
                         ids=["tanh", "softplus"])
def test_recompute_changes_loops_not_results(parts):
    """The barrier of ``elementwise(recompute=True)`` only moves work between loops: the
    value and the gradient are bit for bit those of the shared form."""
    x = jax.random.normal(jax.random.key(0), (256, 1024)) * 30.0
    g = jax.random.normal(jax.random.key(1), (256, 1024))
    fresh, shared = _math.elementwise(parts), _math.elementwise(parts, recompute=False)
    (y1, d1), (y2, d2) = training_step(fresh)(x, g), training_step(shared)(x, g)
    assert (y1 == y2).all() and (d1 == d2).all()
    assert kernels(training_step(fresh), X, X) == 2 < kernels(training_step(shared), X, X)
