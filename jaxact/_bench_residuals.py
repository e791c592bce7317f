"""What a function costs besides time: the residuals ``jax.vjp`` saves for the backward
pass (counted from the jaxpr) and the loops XLA compiles it into (from the compiled HLO).

Used by the benchmark (``jaxact bench`` reports them per function, jaxact vs jax.nn) and by
the tests that check a function saves no more than it must.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.extend import core as jcore


def residuals(f: Callable[..., Any], x: Any) -> list[dict[str, Any]]:
    """The arrays ``jax.vjp(f, x)`` keeps for the backward pass, with where they come from.

    Tracing only (``x`` may be a ``jax.ShapeDtypeStruct``; nothing is allocated). Each
    distinct residual appears once, as ``{"shape", "dtype", "size", "depends_on_x",
    "source"}``. A residual that does not depend on ``x`` (a broadcast constant, a literal)
    is reported with ``depends_on_x=False``: XLA folds or rematerialises it for free.
    """
    closed, out_shape = jax.make_jaxpr(lambda x: jax.vjp(f, x), return_shape=True)(x)
    jaxpr = closed.jaxpr
    n_res = len(jax.tree_util.tree_leaves(out_shape[1]))
    res_vars = jaxpr.outvars[len(jaxpr.outvars) - n_res :] if n_res else []
    depends = _dependent_vars(jaxpr, [True] * len(jaxpr.invars))
    producer = {v: e for e in jaxpr.eqns for v in e.outvars}
    out, seen = [], set()
    for v in res_vars:
        if isinstance(v, jcore.Literal) or v in seen:
            continue
        seen.add(v)
        if v in jaxpr.invars:
            source = "the input x"
        elif v in producer:
            eqn = producer[v]
            name = eqn.params.get("name")
            source = f"{eqn.primitive}" + (f" {name!r}" if name else "")
        else:
            source = "a constant"
        out.append(
            {
                "shape": list(v.aval.shape),
                "dtype": str(v.aval.dtype),
                "size": math.prod(v.aval.shape),
                "depends_on_x": v in depends,
                "source": source,
            }
        )
    return out


def saved_residuals(f: Callable[..., Any], x: Any, *, min_fraction: float = 0.5) -> int:
    """Number of full-size arrays ``f`` saves for its backward pass at input ``x``.

    Counts the distinct residuals of ``jax.vjp(f, x)`` that depend on ``x`` (the input
    itself counts: ``f`` forces it to stay alive) and have at least ``min_fraction *
    x.size`` elements. One half lets the halves that ``glu`` saves count; a normalizer's
    per-row statistics (``x.size / 1024`` elements) do not. Masks count like any array.

    Args:
      f: a function of one array.
      x: an array or ``jax.ShapeDtypeStruct`` (only traced; nothing is allocated).
      min_fraction: smallest residual, as a fraction of ``x.size``, that counts.

    Returns:
      The count, an ``int`` >= 0.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> x = jax.ShapeDtypeStruct((1024,), jnp.float32)
      >>> saved_residuals(lambda x: x * 2, x), saved_residuals(jnp.sin, x)
      (0, 1)
    """
    return len(_full_size(residuals(f, x), math.prod(np.shape(x)), min_fraction))


def _full_size(rs: list[dict[str, Any]], size: int, min_fraction: float = 0.5) -> list[Any]:
    return [r for r in rs if r["depends_on_x"] and r["size"] >= min_fraction * size]


def _dependent_vars(jaxpr: Any, in_dep: Sequence[bool]) -> set[Any]:
    """Vars of ``jaxpr`` that depend on the invars flagged in ``in_dep``.

    Recurses into a sub-jaxpr whose arity matches its equation (jit, custom_jvp_call,
    closed_call, ...), so a constant built inside a jitted function is not blamed on x;
    other higher-order primitives are treated conservatively (all outputs depend).
    """
    dep = {v for v, d in zip(jaxpr.invars, in_dep, strict=True) if d}
    for eqn in jaxpr.eqns:
        flags = [not isinstance(v, jcore.Literal) and v in dep for v in eqn.invars]
        if not any(flags):
            continue
        sub = _matching_subjaxpr(eqn)
        if sub is None:
            dep.update(eqn.outvars)
            continue
        inner = _dependent_vars(sub, flags)
        dep.update(o for o, io in zip(eqn.outvars, sub.outvars, strict=True) if io in inner)
    return dep


def _matching_subjaxpr(eqn: Any) -> Any:
    subs = []
    for p in eqn.params.values():
        j = p.jaxpr if isinstance(p, jcore.ClosedJaxpr) else p
        if isinstance(j, jcore.Jaxpr):
            subs.append(j)
    if len(subs) != 1:
        return None
    (j,) = subs
    if len(j.invars) != len(eqn.invars) or len(j.outvars) != len(eqn.outvars):
        return None
    return j


# Entry-computation instructions that launch no loop of their own.
_FREE = frozenset({"parameter", "constant", "tuple", "get-tuple-element", "bitcast"})
_INSTRUCTION = re.compile(
    r"^\s*(?:ROOT )?(%\S+) = (\([^)]*\)|\S+) ([\w-]+)\(([^)]*)\)", re.M)
# A computation of the compiled module: its name and body.
_COMPUTATION = re.compile(r"^(?:ENTRY )?(%\S+) [^\n]*\{\n(.*?)\n\}", re.M | re.S)


def kernels(f: Callable[..., Any], *args: Any) -> int:
    """Loops (kernels, on an accelerator) of ``jax.jit(f)`` compiled for ``args``.

    Counts the instructions of the compiled module's entry computation that touch a
    large array (a result or operand with at least 1/8 of the elements of the largest
    of ``args``), other than parameters, constants, tuples and bitcasts: each fusion,
    copy, concatenate or reduction left outside a fusion reads its inputs and writes its
    output in a pass of its own (work on the hyper-parameters, scalars or a few
    coefficients, is not counted). An elementwise function that XLA fuses into one
    loop reads x once and writes once; where its intermediates are written out (XLA's
    CPU backend does so for an expensive value, such as an exp or a division, that
    several fused computations read) the count shows it. A conditional counts as its
    costliest branch. Compiles ``f`` for the default backend but runs nothing.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> x = jax.ShapeDtypeStruct((1024,), jnp.float32)
      >>> kernels(lambda x: jnp.exp(x) + 1.0, x)
      1
    """
    text = jax.jit(f).lower(*args).compile().as_text()
    if text is None:  # (a backend without HLO text)
        raise RuntimeError("kernels: the compiled function has no HLO text to count")
    bodies = dict(_COMPUTATION.findall(text))
    entry = re.search(r"\nENTRY (%\S+)", text)
    if entry is None:
        raise RuntimeError("kernels: the compiled module has no entry computation")
    big = max(math.prod(getattr(a, "shape", ())) for a in args) / 8
    return _loops(bodies, bodies[entry[1]], big)


def _elements(shape: str) -> int:
    """The largest element count among the arrays of an HLO shape (or tuple of shapes);
    0 for scalars, which are never a pass over memory."""
    dims = re.findall(r"\[([\d,]+)\]", shape)
    return max((math.prod(int(d) for d in ds.split(",")) for ds in dims), default=0)


def _loops(bodies: dict[str, str], body: str, big: float) -> int:
    """Loops of one computation; a conditional counts as its costliest branch."""
    shapes, count = {}, 0
    for line in body.splitlines():
        m = _INSTRUCTION.match(line)
        if m is None:
            continue
        name, shape, op, operands = m.groups()
        shapes[name] = shape
        if op == "conditional":
            branches = re.search(r"branch_computations=\{([^}]*)\}", line)
            names = re.findall(r"%[^\s,]+", branches[1]) if branches else re.findall(
                r"(?:true|false)_computation=(%[^\s,]+)", line)
            count += max(_loops(bodies, bodies[b], big) for b in names)
            continue
        arrays = [shape] + [shapes.get(o, "") for o in re.findall(r"%[^\s,)]+", operands)]
        count += op not in _FREE and any(_elements(a) >= big for a in arrays)
    return count
