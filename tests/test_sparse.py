"""sparsemax, entmax15, entmax(alpha) and gumbel_softmax: accuracy against mpmath, the
simplex properties, masking, derivatives, and the sampling statistics of Gumbel-max.

The reference (``simplex_reference``) is independent of jaxact's sorting: the threshold
tau of alpha-entmax is found by bisection in mpmath (60 digits, to 2^-200), and alpha = 1
is the softmax. Errors are measured as in tests/test_accuracy.py (same units, same bars):
values <= 4, VJPs <= 8 units, where a unit is the float32 ulp, or 2^-24 times the
conditioning scale sum_k |x_k d(out)/d x_k| where that exceeds the ulp 2^10-fold.
"""

from __future__ import annotations

import functools
from typing import Any

import cases
import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from jax.test_util import check_grads
from test_accuracy import DERIV_ULP, TINY, VALUE_ULP, check, quiet, ulp_error, unit

import jaxact as ja
from jaxact import entmax, entmax15, sparsemax
from jaxact._gumbel import gumbel_softmax

# --- the reference -----------------------------------------------------------------------


def _probabilities(y: list[mp.mpf], alpha: float) -> list[mp.mpf]:
    """alpha-entmax of the finite scores ``y`` (mpmath): softmax at 1, else the threshold
    tau solving sum [z_i - tau]_+^beta = 1: bisection in float64, then Newton in mpmath on
    the support found, checked (bisection in mpmath if a borderline entry moved)."""
    m = max(y)
    if alpha == 1:
        e = [mp.exp(v - m) for v in y]
        return [v / mp.fsum(e) for v in e]
    a1, beta = mp.mpf(alpha) - 1, 1 / (mp.mpf(alpha) - 1)
    z = [a1 * (v - m) for v in y]  # the maximum is 0: sum p(-1) >= 1 > sum p(0) = 0
    zf, bf = np.array([float(v) for v in z]), float(beta)
    lo, hi = -1.0, 0.0
    for _ in range(64):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (np.maximum(zf - mid, 0) ** bf).sum() >= 1 else (lo, mid)
    tau = mp.mpf(lo)
    support = [v for v in z if v > tau]
    for _ in range(8):
        f = mp.fsum((v - tau) ** beta for v in support) - 1
        tau += f / (beta * mp.fsum((v - tau) ** (beta - 1) for v in support))
    if not all(v > tau for v in support) or any(tau < v for v in z if v not in support):
        lo, hi = mp.mpf(-1), mp.mpf(0)
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if mp.fsum(max(v - mid, 0) ** beta for v in z) >= 1 else (lo, mid)
        tau = lo
    return [max(v - tau, 0) ** beta for v in z]


@quiet
def simplex_reference(x: np.ndarray, where: np.ndarray | None, alpha: float, g: np.ndarray,
                      sign: float = 1.0) -> dict[str, np.ndarray]:
    """Exact outputs of alpha-entmax(sign * x) for each row, with VJPs for cotangent g
    and the conditioning scales of tests/test_accuracy.py (float64 from exact p)."""
    out: dict[str, list] = {k: [] for k in ("value", "value_scale", "vjp", "vjp_terms",
                                            "vjp_scale")}
    with mp.workdps(60):
        for i, row in enumerate(x.astype(np.float64)):
            sel = np.ones(row.shape, bool) if where is None else where[i]
            y = sign * row
            live = sel & (y > -np.inf)
            n = len(row)
            if np.isnan(y[sel]).any() or (y[sel] == np.inf).any() or not live.any():
                for k in out:
                    out[k].append(np.where(sel | (k != "value"), np.nan, 0.0))
                continue
            p = np.zeros(n)
            p[live] = [float(v) for v in _probabilities([mp.mpf(v) for v in y[live]], alpha)]
            for k, v in _derivatives(row, p, alpha, g[i], sign).items():
                out[k].append(v)
    return {k: np.array(v) for k, v in out.items()}


def _derivatives(x: np.ndarray, p: np.ndarray, alpha: float, g: np.ndarray,
                 sign: float) -> dict[str, np.ndarray]:
    """From p: J = sign (diag(s) - s s^T / sum s), s = p^(2-alpha) on the support."""
    pos = p > 0
    s = np.where(pos, np.where(pos, p, 1.0) ** (2.0 - alpha), 0.0)
    S = s.sum()
    J = sign * (np.diag(s) - np.outer(s, s) / S)
    ax = np.where(np.isfinite(x), np.abs(x), 0.0)  # an excluded entry (J = 0) adds nothing
    G = (s * g).sum() / S
    vjp = sign * s * (g - G)  # J is symmetric
    dsdx = (2.0 - alpha) * np.where(pos, s / np.where(pos, p, 1.0), 0.0)[:, None] * J
    dG = (dsdx * (g - G)[:, None]).sum(0) / S  # d G / d x_k
    dvjp = sign * (dsdx * (g - G)[:, None] - s[:, None] * dG[None, :])
    return dict(value=p, value_scale=np.abs(J * ax[None, :]).sum(1), vjp=vjp,
                vjp_terms=s * (np.abs(g) + (np.abs(s * g)).sum() / S),
                vjp_scale=np.abs(dvjp * ax[None, :]).sum(1))


# --- row sets ------------------------------------------------------------------------------
# The row sets of tests/cases.py and rows made for the sparse maps, padded to one width
# with masked-out junk (masking is tested on every row that way, and each function
# compiles once).
_big = 3.4e38
SPARSE5 = np.array([
    [1.0, 0.0, -1.0, -2.0, -3.0],      # sparsemax: 0 exactly at tau
    [1.0, 1.0, 1.0, 0.0, -1.0],        # ties inside the support
    [0.5, 0.5, -0.5, -0.5, -0.5],      # ties at or outside its edge
    [1e30, 1e30, -1e30, 0.0, -np.inf],
    [-1e30, -1e30, -1e30, -1e30, -1e30],
    [1e5, 1e5 + 0.5, 1e5 - 0.25, 1e5 + 0.75, 1e5 - 3.0],
    [0.3, -1.2, 2.0, 0.0, 1.9],
    [-_big, _big, _big, 3e38, 1.0],
    [2.0, 1.0, 0.5, 0.25, 0.125],
    [1e-7, 2e-7, -1e-7, 0.0, 3e-7],
    [-np.inf, -np.inf, 4.0, -np.inf, 3.5],
    [np.nan, 0.0, 1.0, 2.0, 3.0],
    [20.0, 19.5, 19.0, -np.inf, 18.0],
], np.float32)


def padded(sets: dict[str, cases.RowSet]) -> tuple[cases.RowSet, list[str]]:
    """One RowSet of width 64 from several, and each row's origin ("name[i]")."""
    xs, ws, names = [], [], []
    for name, r in sets.items():
        n, k = r.x.shape
        x = np.full((n, 64), np.float32(7.5))
        x[:, k:] = np.where(np.arange(64 - k) % 3 == 0, np.nan, 1e30)  # junk
        x[:, :k] = r.x
        w = np.zeros((n, 64), bool)
        w[:, :k] = True if r.where is None else r.where
        xs.append(x)
        ws.append(w)
        names += [f"{name}[{i}]" for i in range(n)]
    return cases.RowSet(np.concatenate(xs).astype(np.float32), where=np.concatenate(ws)), names


ROWS, ROW_NAMES = padded({**{k: cases.ROWS[k] for k in ("special3", "random64", "pair2",
                                                        "masked7")},
                          "sparse5": cases.RowSet(SPARSE5)})
FUNCS: dict[str, tuple[Any, float]] = {
    "sparsemax": (sparsemax, 2.0),
    "entmax15": (entmax15, 1.5),
    "entmax-3": (functools.partial(entmax, alpha=3.0), 3.0),
    "entmax-1.25": (functools.partial(entmax, alpha=1.25), 1.25),
    # beta ~ 10; the reference takes float32's 1.1, the alpha that entmax computes with
    "entmax-1.1": (functools.partial(entmax, alpha=1.1), float(np.float32(1.1))),
    # a traced alpha takes the bisection path, also at 1.5 (see computed)
    "entmax-traced1.5": (entmax, 1.5),
}


@functools.cache
def reference(alpha: float) -> dict[str, np.ndarray]:
    return simplex_reference(ROWS.x, ROWS.where, alpha, ROWS.g)


@functools.cache
def computed(name: str) -> dict[str, np.ndarray]:
    """Float32 value and VJP (cotangent g) of FUNCS[name] on ROWS, jitted."""
    f, alpha = FUNCS[name]

    @jax.jit
    def run(x: jax.Array, w: jax.Array, g: jax.Array, a: jax.Array) -> Any:
        kw = {"alpha": a} if "traced" in name else {}
        y, pull = jax.vjp(lambda x: f(x, where=w, **kw), x)
        return y, pull(g)[0]

    y, vjp = run(*map(jnp.asarray, (ROWS.x, ROWS.where, ROWS.g)), jnp.float32(alpha))
    return dict(value=np.asarray(y), vjp=np.asarray(vjp))


def row_label(x: np.ndarray, names: list[str]) -> Any:
    def label(k: int) -> str:
        i, j = divmod(k, x.shape[1])
        return f"{names[i]} x={np.array2string(x[i][:8], precision=4)}... [{j}]"
    return label


@quiet
def check_against(what: str, rows: cases.RowSet, names: list[str], got: dict[str, np.ndarray],
                  ref: dict[str, np.ndarray], value_bar: float = VALUE_ULP,
                  vjp_bar: float = DERIV_ULP) -> None:
    """Values within ``value_bar`` units, VJPs within ``vjp_bar`` (test_accuracy's units)."""
    label = row_label(rows.x, names)
    units = unit(ref["value"], ref["value_scale"])
    err = ulp_error(got["value"], ref["value"], units)
    check(f"{what} value", label, got["value"].ravel(), ref["value"].ravel(),
          units.ravel(), err.ravel(), value_bar)
    units = np.maximum(unit(ref["vjp"], ref["vjp_terms"], always=True),
                       unit(ref["vjp"], ref["vjp_scale"]))
    err = ulp_error(got["vjp"], ref["vjp"], units)
    err[np.isnan(ref["vjp"])] = 0.0
    # reverse mode forms s_j g_j first and XLA flushes it to 0 when subnormal (FTZ), as
    # tests/test_accuracy.py accepts; then s_j (g_j - G) comes back as -s_j G, off by
    # that flushed term: accepted when within 2^-126 (seen for softmin, p_j ~ 1e-37).
    p = ref["value"]
    flushed = (np.abs(p) < TINY) | (np.abs(p * rows.g) < TINY)
    err[flushed & ((got["vjp"] == 0) | (np.abs(got["vjp"] - ref["vjp"]) <= TINY))] = 0.0
    check(f"{what} vjp", label, got["vjp"].ravel(), ref["vjp"].ravel(),
          units.ravel(), err.ravel(), vjp_bar)


@pytest.mark.parametrize("name", FUNCS)
def test_accuracy_against_mpmath(name: str) -> None:
    check_against(name, ROWS, ROW_NAMES, computed(name), reference(FUNCS[name][1]))


@pytest.mark.parametrize("name", FUNCS)
def test_simplex_and_exact_zeros(name: str) -> None:
    p, ref = computed(name)["value"], reference(FUNCS[name][1])["value"]
    ok = ~np.isnan(ref).any(-1)  # rows with a nan, +inf, or nothing to normalise: all nan
    w = ROWS.where[~ok]
    assert np.isnan(p[~ok][w]).all() and (p[~ok][~w] == 0).all()  # masked out: 0
    assert (p[ok] >= 0).all()
    total = p[ok].astype(np.float64).sum(-1)
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=8 * 2.0**-24)
    assert ((p[ok] == 0) == (ref[ok] == 0)).all(), "zeros exactly where the exact answer has"


def test_reference_bisection_matches_closed_forms() -> None:
    """The reference's bisection against sparsemax's and 1.5-entmax's closed forms."""
    x = [mp.mpf(v) for v in (0.3, -1.2, 2.0, 0.0, 1.9)]
    with mp.workdps(60):
        p2 = _probabilities(x, 2.0)
        tau = (mp.mpf(2.0) + mp.mpf(1.9) - 1) / 2  # support {2.0, 1.9}
        assert all(abs(a - max(v - tau, 0)) < mp.mpf(10) ** -50 for a, v in zip(p2, x, strict=True))
        p15 = _probabilities(x, 1.5)  # support {2.0, 1.9}: (z_i - tau)^2, z = x/2
        z = [v / 2 for v in (mp.mpf(2.0), mp.mpf(1.9))]
        mean = sum(z) / 2
        tau = mean - mp.sqrt((1 - sum((v - mean) ** 2 for v in z)) / 2)
        assert abs(p15[2] - (z[0] - tau) ** 2) < mp.mpf(10) ** -50
        assert abs(p15[4] - (z[1] - tau) ** 2) < mp.mpf(10) ** -50
        assert p15[0] == p15[1] == p15[3] == 0


def _wide_rows() -> cases.RowSet:
    """Rows of 1024, where the threshold search takes many steps (dense near the top,
    all in the support, an outlier, a large offset)."""
    rng = np.random.default_rng(11)
    n = np.arange(1024)
    return cases.RowSet(np.stack([
        3.0 * rng.standard_normal(1024),
        np.linspace(0.0, -2.0, 1024),
        1.0 - 2.0 ** (n / 64.0),
        0.5 + 1e-6 * rng.standard_normal(1024),
        np.concatenate([[5.0], 0.1 * rng.standard_normal(1023)]),
        1e4 + rng.standard_normal(1024),
        -np.sqrt(n) / 8.0,
    ]).astype(np.float32))


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_wide_rows_against_mpmath(name: str) -> None:
    """Full-width rows (the support found by Newton's method on tau, the residual
    summed over up to 1024 entries) against the same mpmath reference."""
    rows = _wide_rows()
    f, alpha = FUNCS[name]
    y, pull = jax.vjp(jax.jit(f), jnp.asarray(rows.x))
    got = dict(value=np.asarray(y), vjp=np.asarray(pull(jnp.asarray(rows.g))[0]))
    names = [f"wide[{i}]" for i in range(len(rows.x))]
    check_against(name, rows, names, got, simplex_reference(rows.x, None, alpha, rows.g))


# --- semantics -------------------------------------------------------------------------------
SIMPLEX = {"sparsemax": sparsemax, "entmax15": entmax15,
           "entmax-1.3": functools.partial(entmax, alpha=1.3),
           "entmax-2.5": functools.partial(entmax, alpha=2.5)}
_n = np.nan
EDGE_X = np.array([
    [1.0, _n, 0.2, -0.3],            # 0: masked junk (where below)
    [1.0, -np.inf, 0.2, -0.3],       # 1: -inf is excluded like a masked entry: = row 0
    [1.0, 7.0, 0.2, -0.3],           # 2: other junk under the mask: = row 0
    [0.7, 0.7, 0.7, -5.0],           # 3: ties share equally
    [-5.0, 0.7, 0.7, 0.7],           # 4: row 3 permuted
    [1e30, -1e30, 1e30, 3e38],       # 5: huge: [0, 0, 0, 1]
    [1e30, 1e30, -1e30, -np.inf],    # 6: [1/2, 1/2, 0, 0]
    [-_big, _big, _big, 0.0],        # 7: [0, 1/2, 1/2, 0]
    [_n, 1.0, 2.0, 3.0],             # 8-10: nan rows (nan, +inf, all -inf); 11: all masked
    [np.inf, 1.0, 2.0, 3.0],
    [-np.inf, -np.inf, -np.inf, -np.inf],
    [1.0, 2.0, 3.0, 4.0],
], np.float32)
EDGE_W = np.ones(EDGE_X.shape, bool)
EDGE_W[[0, 2], 1] = False
EDGE_W[11] = False


@pytest.mark.parametrize("name", SIMPLEX)
def test_masks_ties_inf_and_huge(name: str) -> None:
    f = SIMPLEX[name]
    x, w = jnp.asarray(EDGE_X), jnp.asarray(EDGE_W)
    weights = jnp.arange(4.0) - 1.5
    p, grad = jax.jit(lambda x: (f(x, where=w),
                                 jax.grad(lambda x: jnp.sum(f(x, where=w) * weights))(x)))(x)
    p, grad = np.asarray(p), np.asarray(grad)
    np.testing.assert_array_equal(p[1], p[0])
    np.testing.assert_array_equal(p[2], p[0])
    assert p[0, 1] == 0.0 and grad[0, 1] == 0.0 and grad[2, 1] == 0.0
    assert p[3, 0] == p[3, 1] == p[3, 2] and p[3, 0] > 0
    np.testing.assert_array_equal(p[4], p[3][[3, 0, 1, 2]])
    np.testing.assert_array_equal(p[5:8], [[0, 0, 0, 1], [0.5, 0.5, 0, 0], [0, 0.5, 0.5, 0]])
    assert np.isfinite(p[:8]).all() and np.isfinite(grad[:8]).all()  # nan rows do not leak
    assert np.isnan(p[8:11]).all() and (p[11] == 0).all()  # masked out: 0 even there
    np.testing.assert_allclose(p[:8].sum(-1), 1.0, rtol=2**-22)


def test_axes_alpha_broadcast_vmap_and_low_precision() -> None:
    x = jnp.asarray(np.random.default_rng(3).normal(0, 2, (3, 4, 5)), jnp.float32)
    alpha = jnp.asarray([1.2, 1.5, 2.0, 3.0])[None, :, None]  # one per slice
    got = entmax(x, alpha=alpha, axis=(0, 2))
    flat = jnp.moveaxis(x, 1, 0).reshape(4, 15)  # slice j = x[:, j, :]
    want = entmax(flat, alpha=alpha.reshape(4, 1)).reshape(4, 3, 5)
    np.testing.assert_array_equal(got, jnp.moveaxis(want, 0, 1))
    np.testing.assert_allclose(got.sum((0, 2)), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(sparsemax(x, axis=None), sparsemax(x.ravel()).reshape(x.shape))
    np.testing.assert_array_equal(jax.vmap(entmax15)(x), entmax15(x))
    f = SIMPLEX["entmax-1.3"]  # the dtype policy is _core.apply's, shared by all
    low = f(x.astype(jnp.bfloat16))
    assert low.dtype == jnp.bfloat16
    want = f(x.astype(jnp.bfloat16).astype(jnp.float32)).astype(jnp.bfloat16)
    np.testing.assert_array_equal(low, want)


def test_entmax_family_agrees() -> None:
    x = jnp.asarray(cases.ROWS["random64"].x)
    np.testing.assert_array_equal(entmax(x, alpha=1.5), entmax15(x))
    np.testing.assert_array_equal(entmax(x, 2), sparsemax(x))
    np.testing.assert_array_equal(entmax(x, alpha=1.0), ja.softmax(x))
    # a traced alpha: bisection, and at alpha = 1 the softmax; one alpha per row
    traced = jax.jit(lambda x, a: entmax(x, alpha=a))
    a = jnp.asarray([[1.0], [1.5], [2.0], [1.5], [1.0], [2.0], [1.001]])
    got = np.asarray(traced(x, a))
    want = np.asarray(jnp.stack([ja.softmax(x), entmax15(x), sparsemax(x)]))
    for i, k in enumerate([0, 1, 2, 1, 0, 2]):
        np.testing.assert_allclose(got[i], want[k, i], rtol=4e-6, atol=2e-9)
    np.testing.assert_allclose(got[6], want[0, 6], atol=2e-3)  # alpha -> 1: softmax
    assert np.isnan(np.asarray(traced(x, jnp.full((7, 1), 0.5)))).all()  # alpha < 1
    zeros = [int((entmax(x, alpha=jnp.float32(a)) == 0).sum()) for a in (1.1, 1.5, 2.0, 4.0)]
    assert zeros == sorted(zeros) and zeros[0] < zeros[-1]  # larger alpha, sparser


# --- derivatives in float64 ------------------------------------------------------------------
@pytest.mark.parametrize("name", SIMPLEX)
def test_derivatives_match_finite_differences(name: str) -> None:
    """Away from support changes (seeded rows: every entry is >= 1e-3 from the edge of
    the support, finite differences step 1e-4), forward and reverse mode."""
    with jax.enable_x64(True):
        x = jnp.asarray(np.random.default_rng(5).normal(0, 1.5, (6, 7)))
        f = jax.jit(SIMPLEX[name])
        p = np.asarray(f(x))
        assert (p > 0).sum() > 6 and (p == 0).sum() > 6  # both sides of the edge occur
        check_grads(f, (x,), order=1, modes=("fwd", "rev"), eps=1e-4)


def test_alpha_derivative() -> None:
    """d p / d alpha (closed form; its limit at alpha = 1) against central differences,
    one-sided at alpha = 1, in float64; reverse mode against forward mode."""
    with jax.enable_x64(True):
        x = jnp.asarray(np.random.default_rng(9).normal(0, 1.0, (4, 6)))
        f = jax.jit(lambda a: entmax(x, alpha=a))
        jvp = jax.jit(lambda a: jax.jvp(f, (a,), (jnp.ones_like(a),))[1])
        vjp = jax.jit(jax.grad(lambda a: jnp.sum(f(a) * jnp.arange(6.0))))
        for alpha in (1.0, 1.2, 1.5, 2.0, 3.0):
            a, h = jnp.float64(alpha), 1e-6
            fd = (f(a + h) - f(a)) / h if alpha == 1 else (f(a + h) - f(a - h)) / (2 * h)
            tangent = jvp(a)
            np.testing.assert_allclose(tangent, fd, atol=4e-6 if alpha == 1 else 1e-8)
            np.testing.assert_allclose(vjp(a), jnp.sum(tangent * jnp.arange(6.0)), rtol=1e-12)


def test_one_residual() -> None:
    from jaxact._bench import residuals

    x = jax.ShapeDtypeStruct((64, 1024), jnp.float32)
    for f in [*SIMPLEX.values(), functools.partial(gumbel_softmax, key=jax.random.key(0))]:
        sizes = [r["size"] for r in residuals(f, x) if r["depends_on_x"]]
        assert sum(sizes) <= 64 * 1024 * (1 + 1 / 16), f  # + per-row statistics


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: entmax(jnp.ones(3), alpha=0.9), "alpha"),
        (lambda: entmax(jnp.ones(3), alpha=float("nan")), "alpha"),
        (lambda: entmax(jnp.ones(3), alpha=float("inf")), "alpha"),
        (lambda: entmax(jnp.ones((2, 3)), alpha=jnp.full((2, 3), 1.5)), "alpha"),
        (lambda: entmax(jnp.ones(3), alpha=1.3, n_iter=0), "n_iter"),
        (lambda: entmax(jnp.ones(3), alpha=1.3, n_iter=2.5), "n_iter"),
        (lambda: sparsemax(jnp.ones((2, 3)), axis=2), "axis"),
        (lambda: entmax15(jnp.ones(3), where=jnp.ones((2, 2), bool)), "where"),
        (lambda: gumbel_softmax(jnp.ones(3), jax.random.key(0), tau=0.0), "tau"),
        (lambda: gumbel_softmax(jnp.ones(3), jax.random.key(0), tau=-1.0), "tau"),
    ],
)
def test_invalid_values(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: entmax(jnp.ones(3), alpha="1.5"), "alpha"),
        (lambda: gumbel_softmax(jnp.ones(3), 0), "key"),
        (lambda: gumbel_softmax(jnp.ones(3), jax.random.split(jax.random.key(0))), "key"),
        (lambda: gumbel_softmax(jnp.ones(3), jax.random.key(0), hard=1), "hard"),
        (lambda: sparsemax(jnp.ones(3), where=jnp.ones(3)), "where"),
        (lambda: entmax15([1.0, 2.0]), "'x'"),
    ],
)
def test_invalid_types(call: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        call()


# --- gumbel_softmax -------------------------------------------------------------------------
LOGITS = jnp.asarray([1.0, 0.0, -1.0, 2.0, -jnp.inf, 0.5])


def test_gumbel_is_deterministic_and_a_distribution() -> None:
    key = jax.random.key(42)
    x = jnp.tile(LOGITS, (3, 1))
    y = gumbel_softmax(x, key)
    np.testing.assert_array_equal(y, gumbel_softmax(x, key))
    np.testing.assert_array_equal(y, jax.jit(gumbel_softmax)(x, key))
    assert not np.array_equal(y, gumbel_softmax(x, jax.random.key(43)))
    assert not np.array_equal(y[0], y[1])  # each slice has its own noise
    assert float(y[:, 4].max()) == 0.0
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
    # a legacy uint32 key draws the same; bfloat16 is float32 noise and math, rounded once
    np.testing.assert_array_equal(gumbel_softmax(x, jax.random.PRNGKey(42)),
                                  gumbel_softmax(x, jax.random.wrap_key_data(
                                      jax.random.PRNGKey(42))))
    low = gumbel_softmax(x.astype(jnp.bfloat16), key)
    np.testing.assert_array_equal(low, y.astype(jnp.bfloat16))


def test_gumbel_hard_is_one_hot_with_the_soft_gradient() -> None:
    x = jnp.tile(LOGITS, (50, 1))
    key = jax.random.key(1)
    w = jnp.asarray(np.random.default_rng(0).normal(size=x.shape), jnp.float32)

    @jax.jit
    def run(x: jax.Array, tau: jax.Array) -> Any:
        out = {}
        for hard in (False, True):
            loss = lambda x, t, hard=hard: jnp.sum(gumbel_softmax(x, key, tau=t, hard=hard) * w)
            out[hard] = (gumbel_softmax(x, key, tau=tau, hard=hard),
                         jax.grad(loss, (0, 1))(x, tau))
        return out

    for tau in (0.3, 1.0, 5.0):
        out = run(x, jnp.float32(tau))
        (soft, g_soft), (hard, g_hard) = out[False], out[True]
        assert set(np.unique(np.asarray(hard))) == {0.0, 1.0}
        np.testing.assert_array_equal(hard.sum(-1), 1.0)
        # the Gumbel-max draw: the soft sample's argmax and jax.random.categorical's
        np.testing.assert_array_equal(jnp.argmax(hard, -1), jnp.argmax(soft, -1))
        np.testing.assert_array_equal(jnp.argmax(hard, -1), jax.random.categorical(key, x))
        np.testing.assert_array_equal(g_hard[0], g_soft[0])  # straight-through
        np.testing.assert_array_equal(g_hard[1], g_soft[1])
        assert float(jnp.abs(g_hard[0][:, 4]).max()) == 0.0  # -inf: never drawn, no gradient


def test_gumbel_where_and_axes() -> None:
    x = jnp.zeros((2000, 2, 3))
    w = jnp.asarray([[True, False, True], [False, True, True]])
    y = gumbel_softmax(x, jax.random.key(7), hard=True, axis=(1, 2), where=w)
    np.testing.assert_array_equal(y.sum((1, 2)), 1.0)
    assert float(y[:, ~w].max()) == 0.0
    assert (y[:, w].sum(0) > 400).all()  # each of the 4 live categories drawn ~500 times


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gumbel_max_frequencies_follow_the_softmax(seed: int) -> None:
    """Counts of n = 20000 hard draws against n softmax(x): Pearson's chi-square, with
    4 degrees of freedom (5 live categories; the -inf one must never occur), below its
    1 - 1e-4 quantile (23.5): a false alarm once in 10^4 seeds."""
    from scipy.stats import chi2

    n = 20000
    x = jnp.tile(LOGITS, (n, 1))
    counts = np.asarray(gumbel_softmax(x, jax.random.key(seed), hard=True).sum(0), np.float64)
    expected = n * np.asarray(ja.softmax(LOGITS), np.float64)
    live = expected > 0
    assert counts[~live].sum() == 0
    stat = ((counts[live] - expected[live]) ** 2 / expected[live]).sum()
    assert stat < chi2.ppf(1 - 1e-4, live.sum() - 1), (stat, counts, expected)


def test_low_temperature_approaches_the_hard_sample() -> None:
    key = jax.random.key(3)
    x = jnp.tile(LOGITS, (20, 1))
    cold = gumbel_softmax(x, key, tau=1e-4)
    np.testing.assert_allclose(cold, gumbel_softmax(x, key, hard=True), atol=1e-6)
