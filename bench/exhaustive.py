"""Every float32 input, not a sample: jaxact and jax.nn against float64 formulas.

For each function below, evaluates the value and the derivative of both libraries at
every float32 ``x`` with ``2^-12 <= |x| <= 128`` (3.2e8 inputs; below, every function
here is its Taylor polynomial to far below an ulp, above, at its asymptote: there
every 251st float is checked, 1.6e7 more) and compares them with a
float64 formula whose own error is ~1e-16 relative, far below a float32 ulp. Errors
use the metric of tests/test_accuracy.py (ulp of the true value; near a zero of f or
f', the conditioning unit |x f'| 2^-24 or |x f''| 2^-24, with f'' by central
differences of the float64 derivative). Reports the worst error, where it occurs, and
how many inputs miss the bar (value 4 ulp, derivative 8). Writes
bench/results/exhaustive.json.

Every other elementwise function (``--all``) is compared with jaxact itself evaluated
in float64, which shares its formulas but none of float32's roundings.

Run from the repository root: ``python -m bench.exhaustive [--all] [--step N] [name ...]``
(about a minute per function on a 2-core CPU; ``--step N`` takes every N-th float);
``python -m bench.exhaustive --readme`` renders the results into README.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import jaxact as ja

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import test_accuracy as metric  # noqa: E402  (the error metric lives with the tests)

OUT = ROOT / "bench" / "results" / "exhaustive.json"
CHUNK = 1 << 23
DENSE = tuple(int(np.float32(v).view(np.uint32)) for v in (2.0**-12, 128.0))  # every float
STRIDE = 251  # outside DENSE: every 251st float32, from 0 to the largest finite one
MAX_BITS = int(np.float32(np.finfo(np.float32).max).view(np.uint32))


def _sig(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _gelu_tanh(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, k = math.sqrt(2.0 / math.pi), 0.044715
    u2 = 2.0 * c * (x + k * x**3)
    s, sn = _sig(u2), _sig(-u2)
    return x * s, s + x * 2.0 * c * (1.0 + 3.0 * k * x * x) * s * sn


def _squareplus(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.sqrt(x * x + 4.0)
    f = np.where(x >= 0, 0.5 * (x + r), 2.0 / (r - x))  # no cancellation for x < 0
    return f, f / r


def _mish(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sp = np.logaddexp(0.0, x)
    t = np.tanh(sp)
    return x * t, t + x * _sig(x) / np.cosh(sp) ** 2


def _gelu_erf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import erfc  # a test dependency, needed for this row only

    phi = 0.5 * erfc(-x / math.sqrt(2.0))
    return x * phi, phi + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


_SELU = (1.6732632423543772, 1.0507009873554805)  # alpha, scale


def _elu(x: np.ndarray, alpha: float = 1.0, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    neg = np.minimum(x, 0.0)
    return (scale * np.where(x > 0, x, alpha * np.expm1(neg)),
            scale * np.where(x > 0, 1.0, alpha * np.exp(neg)))


# row -> (function, its parameters, float64 (value, derivative) of x)
REFERENCES: dict[str, tuple[str, dict[str, Any], Callable]] = {
    "sigmoid": ("sigmoid", {}, lambda x: (_sig(x), _sig(x) * _sig(-x))),
    "tanh": ("tanh", {}, lambda x: (np.tanh(x), 1.0 / np.cosh(x) ** 2)),
    "softplus": ("softplus", {}, lambda x: (np.logaddexp(0.0, x), _sig(x))),
    "log_sigmoid": ("log_sigmoid", {}, lambda x: (-np.logaddexp(0.0, -x), _sig(-x))),
    "silu": ("silu", {}, lambda x: (x * _sig(x), _sig(x) * (1.0 + x * _sig(-x)))),
    "gelu": ("gelu", {}, _gelu_tanh),
    "gelu-exact": ("gelu", {"approximate": False}, _gelu_erf),
    "elu": ("elu", {}, _elu),
    "selu": ("selu", {}, lambda x: _elu(x, *_SELU)),
    "mish": ("mish", {}, _mish),
    "squareplus": ("squareplus", {}, _squareplus),
    "soft_sign": ("soft_sign", {}, lambda x: (x / (1.0 + np.abs(x)), 1.0 / (1.0 + np.abs(x)) ** 2)),
    "log1mexp": ("log1mexp", {}, lambda x: (  # log1p(-e^-x) beyond ln 2: no cancellation
        np.where(x > math.log(2.0), np.log1p(-np.exp(-x)), np.log(-np.expm1(-x))),
        np.where(x >= 0, 1.0 / np.expm1(np.abs(x)), np.nan))),  # +inf at -0 too
}


def _f32(v: Any) -> Any:
    """A parameter rounded to float32 (the float64 reference must see the same one)."""
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    if isinstance(v, float):
        return float(np.float32(v))
    a = np.asarray(v, np.float32).astype(np.float64)
    return tuple(a.tolist()) if isinstance(v, (tuple, list)) else a


def row_of(name: str) -> tuple[str, dict[str, Any], Callable, Callable, str]:
    """``(function, parameters, float64 (f, f'), f'', what the reference is)``: a formula of
    REFERENCES, or else jaxact itself evaluated in float64 (under ``jax.enable_x64``),
    with the registry's default (or sample) parameters. That second reference shares
    jaxact's formulas but none of float32's roundings: it finds where float32 rounding
    adds up (mish, e_swish), not a wrong formula."""
    if name in REFERENCES:
        fn, params, ref = REFERENCES[name]
        return fn, params, ref, functools.partial(_second, ref), "float64 formula"
    entry = ja.entry(name)
    params = {p.name: _f32(p.default) for p in entry.params} | {
        k: _f32(v) for k, v in entry.sample.items()}
    params = {k: v for k, v in params.items() if v is not None}
    f = functools.partial(entry.fn, **params)
    with jax.enable_x64(True):
        kernel = _kernels(f)
        # f'' by forward over reverse mode (jaxact's rules are differentiable): exact
        # where central differences are not (periodic functions at large x)
        second = jax.jit(lambda x: jax.jvp(lambda t: kernel(t)[1], (x,), (jnp.ones_like(x),))[1])

    def ref(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with jax.enable_x64(True):
            y, dy = kernel(jnp.asarray(x, jnp.float64))
            return np.asarray(y), np.asarray(dy)

    def ref2(x: np.ndarray) -> np.ndarray:
        with jax.enable_x64(True):
            return np.asarray(second(jnp.asarray(x, jnp.float64)))

    return name, params, ref, ref2, "jaxact in float64"


def _kernels(f: Callable[[jax.Array], jax.Array]) -> Callable[[np.ndarray], Any]:
    def both(x: jax.Array) -> tuple[jax.Array, jax.Array]:
        y, pull = jax.vjp(f, x)
        return y, pull(jnp.ones_like(x))[0]

    return jax.jit(both)


def _zeros(g: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The sign changes of ``g`` on a 1e-4 grid over [-130, 130]: where f or f' is 0."""
    t = np.linspace(-130.0, 130.0, 2_600_002)  # even count: 0 falls between two points
    v = g(t)
    i = np.flatnonzero(np.signbit(v[:-1]) != np.signbit(v[1:]))
    return 0.5 * (t[i] + t[i + 1])


def _near(x: np.ndarray, v: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    """Within max(1, |x0|)/4 of a zero x0 (tests/test_accuracy.py's window): a zero of
    the grid, or a sign change of ``v`` between neighbouring inputs of this chunk (which
    finds the zeros of periodic functions beyond the grid)."""
    ok = np.isfinite(v)
    i = np.flatnonzero(ok[:-1] & ok[1:] & (np.signbit(v[:-1]) != np.signbit(v[1:])))
    z = np.unique(np.concatenate([zeros, 0.5 * (x[i] + x[i + 1])]))
    if not z.size:
        return np.zeros(x.shape, bool)
    j = np.searchsorted(z, x)
    near = np.zeros(x.shape, bool)
    for k in (np.maximum(j - 1, 0), np.minimum(j, z.size - 1)):  # the two neighbours do
        near |= np.abs(x - z[k]) <= metric.NEAR * np.maximum(1.0, np.abs(z[k]))
    return near


def _errors(got: np.ndarray, ref: np.ndarray, scale: np.ndarray, near: np.ndarray) -> np.ndarray:
    """As tests/test_accuracy.py: near a zero of ref, error in units of
    max(ulp, scale 2^-24); elsewhere too where scale / |ref| exceeds 2^10."""
    scale = np.nan_to_num(scale, nan=0.0, posinf=0.0)
    units = np.where(near, np.maximum(metric.ulp(ref), scale * metric.EPS), metric.unit(ref, scale))
    return metric.ulp_error(got, ref, units)


def _second(ref: Callable, x: np.ndarray) -> np.ndarray:
    """f'' by central differences of the float64 f' (only its size matters: a unit)."""
    h = 1e-6 * np.maximum(np.abs(x), 1e-3)
    return (ref(x + h)[1] - ref(x - h)[1]) / (2.0 * h)


def _bits(step: int) -> Any:
    """Chunks of float32 bit patterns: every ``step``-th inside DENSE, every
    ``STRIDE * step``-th outside, both signs."""
    lo, hi = DENSE
    out = STRIDE * step
    for sign in (0, 1 << 31):
        yield sign | np.arange(0, lo, out, dtype=np.uint32)
        for start in range(lo, hi + 1, CHUNK * step):
            yield sign | np.arange(start, min(start + CHUNK * step, hi + 1), step, dtype=np.uint32)
        yield sign | np.arange(hi + 1, MAX_BITS + 1, out, dtype=np.uint32)


def scan(name: str, step: int = 1) -> dict[str, Any]:
    """Worst value and derivative errors of jaxact and jax.nn over every input (every
    ``step``-th in the dense range: tests/test_exhaustive.py samples it)."""
    fn, params, ref_fn, second, reference = row_of(name)
    theirs = getattr(jax.nn, fn) if name in REFERENCES else None  # the README's comparison
    libs = {lib: _kernels(functools.partial(f, **params))
            for lib, f in (("jaxact", ja.get(fn)), ("jax.nn", theirs)) if f is not None}
    worst = {lib: {"value": [0.0, 0.0, 0], "derivative": [0.0, 0.0, 0]} for lib in libs}
    kinks = [k.at for k in ja.entry(fn).kinks]  # conventions there: tests/test_properties.py
    zf, zd = _zeros(lambda t: ref_fn(t)[0]), _zeros(lambda t: ref_fn(t)[1])
    count = 0
    for bits in _bits(step):
        x = bits.view(np.float32)
        x64 = x.astype(np.float64)
        f, df = ref_fn(x64)
        near_f, near_d = _near(x64, f, zf), _near(x64, df, zd)
        d2 = np.zeros_like(df)  # f'' enters the unit only near a zero of f', or where
        d2[near_d] = second(x64[near_d])  # f' is ill-conditioned (below: a double root)
        count += x.size
        for lib, kernel in libs.items():
            y, dy = (np.asarray(a, np.float64) for a in kernel(x))
            ev = _errors(y, f, np.abs(x64 * df), near_f)
            ed = _errors(dy, df, np.abs(x64 * d2), near_d)
            bad = np.flatnonzero(ed > metric.DERIV_ULP)
            if bad.size:  # a zero of f' without a sign change (1 + sin u) shows up here
                d2[bad] = second(x64[bad])
                ed[bad] = _errors(dy[bad], df[bad], np.abs(x64[bad] * d2[bad]), near_d[bad])
            ed[np.isin(x64, kinks)] = 0.0
            # a subnormal input may act as the zero of its sign (XLA's CPU and GPU code
            # flushes them): there the error is the smaller of the two readings
            sub = np.flatnonzero((x != 0) & (np.abs(x) < metric.TINY))
            if sub.size:
                zero = np.copysign(0.0, x64[sub])
                f0, df0 = ref_fn(zero)
                ev[sub] = np.minimum(ev[sub], _errors(y[sub], f0, np.zeros_like(f0), near_f[sub]))
                ed[sub] = np.minimum(ed[sub], _errors(dy[sub], df0, np.zeros_like(f0), near_d[sub]))
            for key, e in (("value", ev), ("derivative", ed)):
                bar = metric.VALUE_ULP if key == "value" else metric.DERIV_ULP
                w = worst[lib][key]
                i = int(np.argmax(e))
                if e[i] > w[0]:
                    w[0], w[1] = float(e[i]), float(x[i])
                w[2] += int(np.sum(e > bar))
    return {"function": name, "reference": reference, "step": step, "inputs": count,
            **{lib: {k: {"max_ulp": v[0], "at": v[1], "over_bar": v[2]} for k, v in w.items()}
               for lib, w in worst.items()}}


def _cell(e: dict[str, Any]) -> str:
    v = "inf" if not np.isfinite(e["max_ulp"]) else f"{e['max_ulp']:.3g}"
    return v if e["over_bar"] == 0 else f"{v} ({e['over_bar']:,} pts)"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The README block: a table of the jax.nn rows (worst error in ulp and, where any,
    inputs over the bar), and one line on the self-referenced rest."""
    lines = ["| function | inputs | value: jaxact | value: jax.nn | derivative: jaxact "
             "| derivative: jax.nn |", "|---|---|---|---|---|---|"]
    mine = [r for r in rows if r["function"] in REFERENCES]
    for r in sorted(mine, key=lambda r: list(REFERENCES).index(r["function"])):
        a, b = r["jaxact"], r["jax.nn"]
        lines.append(f"| {r['function']} | {r['inputs']:,} | {_cell(a['value'])} | "
                     f"{_cell(b['value'])} | {_cell(a['derivative'])} | {_cell(b['derivative'])} |")
    rest = sorted((r for r in rows if r["function"] not in REFERENCES), key=lambda r: r["function"])
    if rest:
        miss = [f"{r['function']} ({k} {_cell(r['jaxact'][k])})" for r in rest
                for k in ("value", "derivative") if r["jaxact"][k]["over_bar"]]
        lines += ["", f"The other {len(rest)} elementwise functions, against jaxact in float64 "
                  f"({_sampling(rest)}): "
                  + ("all within the bar." if not miss
                     else "over the bar: " + ", ".join(miss) + ".")]
    return "\n".join(lines)


def _sampling(rows: list[dict[str, Any]]) -> str:
    """How densely the rows were scanned, e.g. "every float32 for erfact, pserf; one
    float32 in 61 for the rest, over the same range"."""
    by_step: dict[int, list[str]] = {}
    for r in rows:
        by_step.setdefault(r["step"], []).append(r["function"])
    what = lambda step: "every float32" if step == 1 else f"one float32 in {step}"
    if len(by_step) == 1:
        return f"{what(next(iter(by_step)))} of the same range"
    *named, (last, _) = sorted(by_step.items(), key=lambda kv: len(kv[1]))
    parts = [f"{what(step)} for {', '.join(names)}" for step, names in named]
    return f"{'; '.join(parts)}; {what(last)} for the rest, over the same range"


MARKERS = ("<!-- exhaustive:start -->\n", "<!-- exhaustive:end -->")


def readme_block(text: str) -> str:
    """What sits between README.md's exhaustive markers."""
    start, end = text.index(MARKERS[0]) + len(MARKERS[0]), text.index(MARKERS[1])
    return text[start:end]


def write_readme() -> None:
    """Renders bench/results/exhaustive.json into README.md (between its markers)."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    table = markdown(json.loads(OUT.read_text())["rows"]) + "\n"
    readme.write_text(text.replace(MARKERS[0] + readme_block(text), MARKERS[0] + table),
                      encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exhaustive", description=__doc__)
    parser.add_argument("names", nargs="*", help="rows to scan (default: the jax.nn rows)")
    parser.add_argument("--all", action="store_true",
                        help="every elementwise function (beyond jax.nn: vs jaxact in float64)")
    parser.add_argument("--step", type=int, default=1, help="every step-th float32 (default 1)")
    parser.add_argument("--readme", action="store_true",
                        help="only render bench/results/exhaustive.json into README.md")
    args = parser.parse_args(argv)
    if args.readme:
        write_readme()
        return 0
    names = args.names or list(REFERENCES)
    if args.all:
        names = list(REFERENCES) + [n for n in ja.names(kind="elementwise") if n not in REFERENCES]
    rows = json.loads(OUT.read_text())["rows"] if OUT.exists() else []
    rows = [r for r in rows if r["function"] not in names]
    with np.errstate(all="ignore"):
        for name in names:
            row = scan(name, args.step)
            rows.append(row)
            print(json.dumps(row), flush=True)
    meta = {"jax": jax.__version__, "backend": jax.default_backend(),
            "device": jax.devices()[0].device_kind, "dense": [2.0**-12, 128.0], "stride": STRIDE}
    OUT.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
