"""Per-layer diagnostics: gradient norms, dead units, saturation, learnable parameters."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import jaxact as ja


def layer_grad_norms(grads: Any) -> dict[str, jax.Array]:
    """The global L2 norm of the gradients of each top-level submodule (``conv1``, ...)."""
    groups: dict[str, list[jax.Array]] = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(grads)[0]:
        key = path[0]
        name = str(getattr(key, "key", getattr(key, "name", key)))
        groups.setdefault(name, []).append(jnp.sum(jnp.square(leaf.astype(jnp.float32))))
    return {k: jnp.sqrt(sum(v)) for k, v in groups.items()}


def dead_fraction(h: jax.Array) -> float:
    """Fraction of units whose output is constant over the batch (and all positions).

    A unit is a channel (last axis). A constant output carries no information and, for
    relu-like activations, means zero gradient: relu's dead units (always 0) and saturated
    sigmoid units (always 1) both count.
    """
    flat = np.asarray(h, np.float32).reshape(-1, h.shape[-1])
    spread = flat.max(0) - flat.min(0)
    return float(np.mean(spread <= 1e-6 * (1.0 + np.abs(flat).max(0))))


def saturation_fraction(h: jax.Array, value_range: tuple[float, float]) -> float:
    """Fraction of outputs within 1% of the range's width from either bound."""
    lo, hi = value_range
    tol = 0.01 * (hi - lo)
    a = np.asarray(h, np.float32)
    return float(np.mean((a <= lo + tol) | (a >= hi - tol)))


def bounded_range(activation: Any) -> tuple[float, float] | None:
    """The registry range of a named bounded activation, else ``None``."""
    if not isinstance(activation, str):
        return None
    try:
        entry = ja.entry(activation.strip().lower())
    except (KeyError, ValueError):
        return None  # a learnable layer name
    r = entry.range
    return (r[0], r[1]) if math.isfinite(r[0]) and math.isfinite(r[1]) else None


def learnable_values(model: nnx.Module) -> dict[str, dict[str, Any]]:
    """Parameters of each activation layer (``act1``, ...): scalars as floats, arrays as
    lists when at most 8 elements, else their mean."""
    out: dict[str, dict[str, Any]] = {}
    for name, sub in vars(model).items():
        if not (name.startswith("act") and isinstance(sub, nnx.Module)):
            continue
        values: dict[str, Any] = {}
        pure = nnx.to_pure_dict(nnx.state(sub, nnx.Param))
        for path, leaf in jax.tree_util.tree_flatten_with_path(pure)[0]:
            key = ".".join(str(getattr(k, "key", k)) for k in path)
            a = np.asarray(leaf, np.float64)
            values[key] = (
                float(a) if a.ndim == 0 else a.ravel().tolist() if a.size <= 8 else float(a.mean())
            )
        out[name] = values
    return out


def activation_stats(
    taps: dict[str, jax.Array], value_range: tuple[float, float] | None
) -> dict[str, dict[str, float]]:
    """Dead-unit fraction (and saturation for a bounded activation) per layer."""
    stats = {}
    for name, h in taps.items():
        s = {"dead": dead_fraction(h)}
        if value_range is not None:
            s["saturated"] = saturation_fraction(h, value_range)
        stats[name] = s
    return stats
