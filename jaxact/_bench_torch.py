"""The torch side of ``jaxact bench``: the same function in PyTorch, when torch is installed.

Each entry maps a registry name to torch's function with the same definition and the
registry's sample arguments (jax.nn and torch agree on these: gelu's tanh form, leaky
slope 0.01, softmax along the last axis). Timing calls run eagerly on tensors of the device
JAX benchmarks (on a GPU a timed sample ends with ``torch.cuda.synchronize()``, as the
JAX side's ends with ``block_until_ready``); the backward pass is ``y.backward(g)`` with
a fresh leaf.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

Fn = Callable[[Any, Any, Any], Any]  # (torch, torch.nn.functional, x) -> y

FUNCTIONS: dict[str, Fn] = {
    "relu": lambda t, F, x: F.relu(x),
    "relu6": lambda t, F, x: F.relu6(x),
    "leaky_relu": lambda t, F, x: F.leaky_relu(x, 0.01),
    "elu": lambda t, F, x: F.elu(x),
    "selu": lambda t, F, x: F.selu(x),
    "celu": lambda t, F, x: F.celu(x),
    "gelu": lambda t, F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda t, F, x: F.silu(x),
    "mish": lambda t, F, x: F.mish(x),
    "sigmoid": lambda t, F, x: t.sigmoid(x),
    "log_sigmoid": lambda t, F, x: F.logsigmoid(x),
    "tanh": lambda t, F, x: t.tanh(x),
    "softplus": lambda t, F, x: F.softplus(x),
    "soft_sign": lambda t, F, x: F.softsign(x),
    "hard_sigmoid": lambda t, F, x: F.hardsigmoid(x),
    "hard_silu": lambda t, F, x: F.hardswish(x),
    "hard_tanh": lambda t, F, x: F.hardtanh(x),
    "hard_shrink": lambda t, F, x: F.hardshrink(x),
    "soft_shrink": lambda t, F, x: F.softshrink(x),
    "tanh_shrink": lambda t, F, x: F.tanhshrink(x),
    "glu": lambda t, F, x: F.glu(x, -1),
    "softmax": lambda t, F, x: t.softmax(x, -1),
    "log_softmax": lambda t, F, x: t.log_softmax(x, -1),
    "softmin": lambda t, F, x: F.softmin(x, -1),
    "logsumexp": lambda t, F, x: t.logsumexp(x, -1),
}


def calls(
    name: str, x: np.ndarray, dtype: str, device: str = "cpu"
) -> tuple[Callable[[], Any], ...] | None:
    """``(forward, forward_and_backward, sync)`` zero-argument calls on ``x``, or None;
    ``sync`` waits for the device (CUDA kernels are asynchronous, as JAX's calls are).

    None when torch is not installed, has no counterpart of ``name``, or cannot reach
    ``device`` (``"cpu"`` or ``"cuda"``).

    Examples:
      >>> calls("no_such_function", np.zeros((2, 4), np.float32), "float32") is None
      True
    """
    if name not in FUNCTIONS:
        return None
    try:  # by name: torch is optional, so type checkers may not see it
        torch = importlib.import_module("torch")
        F = importlib.import_module("torch.nn.functional")
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        return None
    sync = torch.cuda.synchronize if device == "cuda" else lambda: None
    fn = FUNCTIONS[name]
    tx = torch.from_numpy(np.array(x, np.float32)).to(device, getattr(torch, dtype))  # a copy
    g = torch.ones_like(fn(torch, F, tx))

    def forward() -> Any:
        with torch.no_grad():
            return fn(torch, F, tx)

    def backward() -> Any:
        leaf = tx.detach().requires_grad_(True)
        fn(torch, F, leaf).backward(g)
        return leaf.grad

    return forward, backward, sync
