"""Sweeps the parametric activations over default, degenerate and random parameters.

For every parameter set, jaxact's float32 value, d/dx and d/dp (each parameter, each
coefficient of an array parameter) on a grid of inputs are compared with jaxact itself
in float64 (under ``jax.enable_x64``), in the error units of tests/test_accuracy.py.
The grid: a dense linspace on [-20, 20], magnitudes 1e-30..1e30 of both signs, the
neighbourhoods of +-each parameter value, and 0, +-inf, NaN, +-FLT_MAX, +-2^-126.
Parameter sets: the registry's defaults (and ``sample``), all 0, all +1, all -1,
alternating +-1, each parameter alone at 0, and ``--sets`` random ones with magnitudes
log-uniform in [1e-2, 1e2] and a random sign where the function accepts negative values.
A set that jaxact rejects with ValueError (outside the documented domain) is skipped.

Usage:
  python tools/sweep_parameters.py                      # every parametric function
  python tools/sweep_parameters.py celu snake --sets 10 --seed 1 --points 200000
Exit status 1 when any error is over its bar, 0 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
import zlib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxact as ja

# The metric is the test suite's own, so that "over the bar" means what it means there.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_accuracy import elementwise_error

F32 = np.finfo(np.float32)
SPECIALS = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, F32.max, -F32.max, F32.tiny, -F32.tiny],
                    np.float32)
Params = dict[str, np.ndarray]  # name -> float32 scalar or 1-d coefficient array
Layout = tuple[tuple[str, tuple[int, ...]], ...]  # names and shapes, in call order


def layout(params: Params) -> Layout:
    return tuple((k, v.shape) for k, v in params.items())


def flatten(params: Params) -> np.ndarray:
    """The parameters as one vector, in call order (``unflatten``'s inverse)."""
    return np.concatenate([v.ravel() for v in params.values()])


def numeric_defaults(name: str) -> Params:
    """The float or float-tuple parameters of ``name`` (defaults, then its ``sample``);
    flags, keys, axes and None-defaulted options are not differentiable and stay unset."""
    entry = ja.entry(name)
    given = {p.name: p.default for p in entry.params} | dict(entry.sample)

    def numeric(v: object) -> bool:
        if isinstance(v, tuple):
            return len(v) > 0 and all(numeric(u) for u in v)
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    return {k: np.asarray(v, np.float32) for k, v in given.items() if numeric(v)}


def accepts(name: str, params: Params) -> str | None:
    """None if jaxact takes ``params``, else its ValueError's message. Checked eagerly:
    the domain checks only run on concrete values, and the sweep traces the parameters."""
    try:
        ja.entry(name).fn(np.float32(1.0), **params)
    except ValueError as e:
        return str(e)
    return None


def parameter_sets(name: str, count: int, rng: np.random.Generator) -> list[Params]:
    base = numeric_defaults(name)
    sets = [base]
    for c in (0.0, 1.0, -1.0):
        sets.append({k: np.full_like(v, c) for k, v in base.items()})
    theta = flatten(base)
    if theta.size > 1:
        alternating = np.where(np.arange(theta.size) % 2, -1.0, 1.0).astype(np.float32)
        sets.append(unflatten(layout(base), alternating))
        sets += [base | {k: np.zeros_like(v)} for k, v in base.items()]
    # A parameter gets random signs only if jaxact accepts it at -1 (others at default).
    signed = {k: accepts(name, base | {k: -np.ones_like(v)}) is None for k, v in base.items()}
    for _ in range(count):
        rand = {}
        for k, v in base.items():
            mag = np.exp(rng.uniform(math.log(1e-2), math.log(1e2), v.shape))
            rand[k] = (mag * (rng.choice([-1.0, 1.0], v.shape) if signed[k] else 1.0))
        sets.append({k: v.astype(np.float32) for k, v in rand.items()})
    unique: dict[bytes, Params] = {}
    for s in sets:
        unique.setdefault(flatten(s).tobytes(), s)
    return list(unique.values())


def grid(points: int, theta: np.ndarray) -> np.ndarray:
    mags = np.geomspace(1e-30, 1e30, max(points // 10, 100))
    parts = [np.linspace(-20, 20, points), mags, -mags]
    # Kinks, zeros and switch-overs sit at (or near) +-a parameter value. Always 8 centres
    # (repeated if fewer): a grid of one size per run compiles once per function.
    centres = list(dict.fromkeys(np.concatenate([theta, -theta]).tolist()))
    for t in (centres * 8)[:8]:
        w = max(1.0, abs(t))
        steps = np.geomspace(1e-30, 1e-2, 200) * w
        parts += [t + np.linspace(-1e-2, 1e-2, max(points // 20, 100)) * w, t + steps, t - steps]
    with np.errstate(over="ignore"):  # neighbourhoods of +-FLT_MAX round to inf: fine
        return np.concatenate([*(p.astype(np.float32) for p in parts), SPECIALS])


def unflatten(layout: Layout, theta):
    """Parameters by name from their flat vector (a numpy or a traced array)."""
    out, at = {}, 0
    for k, shape in layout:
        size = math.prod(shape)
        out[k] = theta[at:at + size].reshape(shape)
        at += size
    return out


@functools.cache
def derivatives(name: str, layout: Layout):
    """jit(vmap) of value_and_grad and of hessian over z = (x, flattened parameters); one
    compilation per function (and dtype), the parameters being traced."""
    fn = ja.entry(name).fn

    def f(z: jax.Array) -> jax.Array:
        return fn(z[0], **unflatten(layout, z[1:]))

    return jax.jit(jax.vmap(jax.value_and_grad(f))), jax.jit(jax.vmap(jax.hessian(f)))


def sweep_set(name: str, params: Params, points: int) -> list[tuple[str, float, float]]:
    """(quantity, worst error, its x) for the value, d/dx and each d/dp."""
    theta = flatten(params)
    x = grid(points, theta)
    z = np.concatenate([x[:, None], np.broadcast_to(theta, (x.size, theta.size))], axis=1)
    first, second = derivatives(name, layout(params))
    v32, g32 = map(np.asarray, first(jnp.asarray(z)))
    with jax.enable_x64(True):
        z64 = jnp.asarray(z.astype(np.float64))
        v64, g64 = map(np.asarray, first(z64))
        h64 = np.asarray(second(z64))
    labels = [k if v.ndim == 0 else f"{k}[{i}]" for k, v in params.items() for i in range(v.size)]
    checks = [("value", *elementwise_error(x, v32, v64, g64[:, 0])),
              ("d/dx", *elementwise_error(x, g32[:, 0], g64[:, 0], h64[:, 0, 0]))]
    finite = np.isfinite(x)
    for j, label in enumerate(labels, start=1):
        # d/dp's conditioning: rounding x and p to float32 (relative 2^-24 each) moves
        # df/dp by |x d2f/dxdp| + |p d2f/dp2| times 2^-24, so that sum plays the part of
        # the |x f'| scale that elementwise_error uses for the value.
        with np.errstate(all="ignore"):
            scale = np.abs(x * h64[:, 0, j]) + np.abs(theta[j - 1] * h64[:, j, j])
        scale = np.where(finite, scale, 0.0)
        checks.append((f"d/d{label}",
                       *elementwise_error(x, g32[:, j], g64[:, j], None, scale=scale)))
    out = []
    for quantity, err, _units in checks:
        err = np.nan_to_num(err, nan=np.inf)  # nan marks a nan or inf that does not belong
        i = int(np.argmax(err))
        out.append((quantity, float(err[i]), float(x[i])))
    return out


def show(params: Params) -> str:
    def fmt(v: np.ndarray) -> str:
        return f"{float(v):.7g}" if v.ndim == 0 else "(" + ",".join(f"{u:.7g}" for u in v) + ")"

    return " ".join(f"{k}={fmt(v)}" for k, v in params.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="functions to sweep (default: all parametric)")
    parser.add_argument("--sets", type=int, default=10, help="random parameter sets per function")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random sets")
    parser.add_argument("--points", type=int, default=5000, help="dense grid points on [-20, 20]")
    parser.add_argument("--bar-value", type=float, default=4.0, help="bar for values (units)")
    parser.add_argument("--bar-deriv", type=float, default=8.0, help="bar for derivatives (units)")
    args = parser.parse_args(argv)
    parametric = [n for n in ja.names(kind="elementwise") if numeric_defaults(n)]
    for n in args.names:
        if n not in parametric:
            parser.error(f"{n!r} is not an elementwise function with numeric parameters")
    ok = over = skipped = 0
    start = time.perf_counter()
    for name in args.names or parametric:
        # Seeded per name, so that sweeping one function repeats its sets from a full run.
        rng = np.random.default_rng([args.seed, zlib.crc32(name.encode())])
        for params in parameter_sets(name, args.sets, rng):
            reason = accepts(name, params)
            if reason is not None:
                skipped += 1
                print(f"SKIP {name} {show(params)}: {reason}")
                continue
            bad = False
            for quantity, worst, at in sweep_set(name, params, args.points):
                bar = args.bar_value if quantity == "value" else args.bar_deriv
                tag = "OK  " if worst <= bar else "OVER"
                bad |= worst > bar
                print(f"{tag} {name} {show(params)} {quantity}: worst {worst:.3g} at x={at:.9g}")
            over += bad
            ok += not bad
    print(f"summary: {ok} sets OK, {over} over the bar, {skipped} skipped "
          f"({len(args.names or parametric)} functions, {time.perf_counter() - start:.0f}s)")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
