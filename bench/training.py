"""Training-step speed: jaxact's step vs a plain flax + optax + jax.nn step, same process.

Both train the same MNIST CNN (random weights from the same seed) with Adam at a constant
learning rate on the same batch, no augmentation, no label smoothing, for each activation
of ``--activations`` (names that jax.nn also has):

- jaxact: ``jaxact.training.loop.make_step`` with ``jaxact.<name>`` and jaxact's
  cross-entropy (``jaxact.log_softmax``), which also returns per-layer gradient norms;
- plain: the same nnx model with ``jax.nn.<name>``, ``optax.softmax_cross_entropy_with_
  integer_labels`` and ``optax.adam``, one ``jax.jit`` step.

The first call of each (trace, compile, run) is timed as the compile time; then rounds
alternate between the two, each round timing ``--steps`` steps ending in
``block_until_ready``. Reported per activation: the median images/s of each and the median
of the per-round ratios. Writes ``bench/results/training-<platform>.json``::

    python -m bench.training                # relu,gelu,silu,tanh; batch 128; 15 rounds of 5
    python -m bench.training --activations relu --rounds 31
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import jaxact as ja
from jaxact.training import loop, report
from jaxact.training.models import make_model

RESULTS = Path(__file__).resolve().parent / "results"


def _plain_step(batch: int, name: str):
    model = make_model("cnn", getattr(jax.nn, name), seed=0)
    graphdef, params = nnx.split(model, nnx.Param)
    tx = optax.adam(1e-3)

    @jax.jit
    def step(p, s, x, y):
        def loss_fn(p):
            logits = nnx.merge(graphdef, p)(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, g = jax.value_and_grad(loss_fn)(p)
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    return step, params, tx.init(params)


def _jaxact_step(batch: int, name: str):
    cfg = loop.Config(
        batch_size=batch,
        lr=1e-3,
        schedule="constant",
        weight_decay=0.0,
        label_smoothing=0.0,
        flip=False,
        shift=0,
    )
    model = make_model("cnn", ja.get(name), seed=0)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = loop.optimizer(cfg, steps_per_epoch=1)
    step = loop.make_step(graphdef, rest, tx, cfg)
    key = jax.random.key(0)
    return (lambda p, s, x, y: step(p, s, x, y, key)[:3]), params, tx.init(params)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the comparison, prints it and writes the JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.training",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--activations", default="relu,gelu,silu,tanh", metavar="NAME[,NAME]")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((args.batch, 28, 28, 1), np.float32))
    y = jnp.asarray(rng.integers(0, 10, args.batch))
    per: dict[str, dict] = {}
    for name in args.activations.split(","):
        sides = {"jaxact": list(_jaxact_step(args.batch, name)),
                 "plain": list(_plain_step(args.batch, name))}
        compile_s = {}
        for k, s in sides.items():  # compile (timed), then warm up
            for i in range(2):
                t0 = time.perf_counter()
                s[1], s[2], loss = s[0](s[1], s[2], x, y)
                loss.block_until_ready()
                if i == 0:
                    compile_s[k] = time.perf_counter() - t0
        times: dict[str, list[float]] = {k: [] for k in sides}
        for _ in range(args.rounds):
            for k, s in sides.items():
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    s[1], s[2], loss = s[0](s[1], s[2], x, y)
                jax.block_until_ready((s[1], loss))
                times[k].append(time.perf_counter() - t0)
        ips = {k: [args.batch * args.steps / t for t in v] for k, v in times.items()}
        ratios = [a / b for a, b in zip(ips["jaxact"], ips["plain"], strict=True)]
        per[name] = {
            "images_per_s": {k: statistics.median(v) for k, v in ips.items()},
            "ratio_jaxact_over_plain": statistics.median(ratios),
            "ratio_p25_p75": [float(np.percentile(ratios, 25)), float(np.percentile(ratios, 75))],
            "compile_s": compile_s,
        }
        print(name, json.dumps(per[name]))
    result = {
        "what": "MNIST CNN train step, Adam, images/s; jaxact step vs plain flax+optax+jax.nn",
        "batch": args.batch,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "activations": per,
        "environment": report.environment(),
    }
    out = Path(args.out) if args.out else RESULTS / f"training-{jax.default_backend()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
