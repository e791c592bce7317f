"""Training one model: one jitted step, seeded shuffling, evaluation, checkpoints.

The recipe (defaults of :class:`Config`): batch 64, AdamW with linear warmup then cosine
decay, label smoothing, random horizontal flips (and optional shifts of up to ``shift``
pixels) done in JAX inside the step. The loss is cross-entropy through ``jaxact.log_softmax``.

Determinism: the epoch's order is ``numpy.random.default_rng((seed, epoch))``, the
augmentation key of step ``s`` is ``fold_in(key(seed), s)``; so a run resumed from the
checkpoint of epoch ``e`` repeats exactly the steps of an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import jaxact as ja
from jaxact.training import diagnostics, sharding
from jaxact.training.models import make_model


class NonFiniteError(FloatingPointError):
    """A non-finite loss or gradient; the message names epoch, step and layers."""


@dataclasses.dataclass(frozen=True)
class Config:
    """Options of one training run (``jaxact train`` flags).

    Examples:
      >>> Config(epochs=10, lr=1e-3).batch_size
      64
    """

    model: str = "cnn"
    epochs: int = 5
    batch_size: int = 64
    lr: float = 3e-3
    schedule: str = "warmup_cosine"  # or "cosine", "constant"
    warmup_epochs: float = 0.5
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    flip: bool = True
    shift: int = 0  # pixels; 1 regularises more, but underfits in 5 epochs (see README)
    seed: int = 0
    eval_batch: int = 1000
    diag_batch: int = 256


def cross_entropy(logits: jax.Array, labels: jax.Array, smoothing: float = 0.0) -> jax.Array:
    """Mean cross-entropy with label smoothing, via ``jaxact.log_softmax``.

    Examples:
      >>> print(cross_entropy(jnp.zeros((1, 4)), jnp.array([2])))
      1.3862944
    """
    n = logits.shape[-1]
    target = (
        optax.smooth_labels(jax.nn.one_hot(labels, n), smoothing)
        if smoothing
        else (jax.nn.one_hot(labels, n))
    )
    return -jnp.mean(jnp.sum(target * ja.log_softmax(logits, axis=-1), axis=-1))


def augment(key: jax.Array, x: jax.Array, *, flip: bool, shift: int) -> jax.Array:
    """Random horizontal flips and shifts (zero padded) of NHWC images."""
    kf, ks = jax.random.split(key)
    if flip:
        x = jnp.where(jax.random.bernoulli(kf, 0.5, (x.shape[0], 1, 1, 1)), x[:, :, ::-1], x)
    if shift:
        h, w = x.shape[1:3]
        pad = jnp.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0)))
        d = jax.random.randint(ks, (x.shape[0], 2), 0, 2 * shift + 1)
        crop = lambda im, o: jax.lax.dynamic_slice(im, (o[0], o[1], 0), (h, w, im.shape[-1]))
        x = jax.vmap(crop)(pad, d)
    return x


def optimizer(cfg: Config, steps_per_epoch: int) -> optax.GradientTransformation:
    """AdamW with the configured learning-rate schedule."""
    total = max(cfg.epochs * steps_per_epoch, 1)
    if cfg.schedule == "constant":
        lr: Any = cfg.lr
    elif cfg.schedule == "cosine":
        lr = optax.cosine_decay_schedule(cfg.lr, total)
    elif cfg.schedule == "warmup_cosine":
        warm = min(int(cfg.warmup_epochs * steps_per_epoch), total - 1)
        lr = optax.warmup_cosine_decay_schedule(0.0, cfg.lr, warm, total)
    else:
        raise ValueError(f"unknown schedule {cfg.schedule!r}")
    return optax.adamw(lr, weight_decay=cfg.weight_decay)


def _images(a: np.ndarray) -> np.ndarray:
    return (np.asarray(a, np.float32) / 255.0)[..., None]


def _save(path: Path, tree: Any, meta: dict[str, Any]) -> None:
    """Writes ``tree``'s leaves (msgpack) and ``meta`` (JSON), each atomically."""
    path.mkdir(parents=True, exist_ok=True)
    leaves = {str(i): np.asarray(v) for i, v in enumerate(jax.tree.leaves(tree))}
    for name, data in (
        ("checkpoint.msgpack", flax.serialization.msgpack_serialize(leaves)),
        ("checkpoint.json", json.dumps(meta, indent=1).encode()),
    ):
        tmp = path / (name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path / name)


def _load(path: Path, like: Any) -> tuple[Any, dict[str, Any]]:
    leaves = flax.serialization.msgpack_restore((path / "checkpoint.msgpack").read_bytes())
    treedef = jax.tree.structure(like)
    restored = [jnp.asarray(leaves[str(i)]) for i in range(treedef.num_leaves)]
    meta = json.loads((path / "checkpoint.json").read_text())
    return jax.tree.unflatten(treedef, restored), meta


def make_step(graphdef: Any, rest: Any, tx: optax.GradientTransformation, cfg: Config) -> Callable:
    """The jitted step ``(params, opt_state, x, y, key) -> (params, opt_state, loss, norms)``."""

    def loss_fn(params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        return cross_entropy(nnx.merge(graphdef, params, rest)(x), y, cfg.label_smoothing)

    @jax.jit
    def step(params: Any, opt_state: Any, x: jax.Array, y: jax.Array, key: jax.Array) -> Any:
        x = augment(key, x, flip=cfg.flip, shift=cfg.shift)
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (
            optax.apply_updates(params, updates),
            opt_state,
            loss,
            diagnostics.layer_grad_norms(grads),
        )

    return step


def _evaluate(graphdef: Any, rest: Any, cfg: Config) -> Callable:
    @jax.jit
    def ev(params: Any, x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
        logits = nnx.merge(graphdef, params, rest)(x)
        loss = cross_entropy(logits, y) * x.shape[0]
        return loss, jnp.sum(jnp.argmax(logits, -1) == y)

    return ev


def train(
    data: Any,
    activation: Any,
    cfg: Config = Config(),
    *,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    log: Callable[[str], None] = lambda s: None,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Trains ``cfg.model`` with ``activation`` on ``data`` and returns its history.

    Args:
      data: an object with ``train_images``, ``train_labels``, ``test_images``,
        ``test_labels`` (uint8 ``(N, 28, 28)`` images), e.g. ``jaxact.datasets.load``.
      activation: a registry name, a ``jaxact.nnx.LEARNABLE`` name, a callable or a layer
        class.
      cfg: the options.
      out: directory for the checkpoint (written after every epoch); ``None``: none.
      resume: continue from the checkpoint in ``out`` when there is one.
      log: called with one line per epoch.
      progress: called with the steps per epoch, returns an object with ``update(n)`` and
        ``close()`` (a progress bar), or ``None``.

    Returns:
      ``{"activation", "epochs": [per-epoch metrics], "params": count}``.

    Raises:
      ValueError: ``resume`` finds a checkpoint written with other options.
      NonFiniteError: the loss or a gradient is not finite; the checkpoint in ``out`` is the
        last good one.

    Examples:
      >>> import types
      >>> rng = np.random.default_rng(0)
      >>> images = rng.integers(0, 255, (64, 28, 28), dtype=np.uint8)
      >>> labels = images[:, 14, 14] % 2  # learnable from one pixel
      >>> data = types.SimpleNamespace(train_images=images, train_labels=labels,
      ...                              test_images=images, test_labels=labels)
      >>> cfg = Config(model="mlp", epochs=2, batch_size=16, eval_batch=64, diag_batch=64)
      >>> run = train(data, "gelu", cfg)
      >>> [sorted(run), len(run["epochs"])]
      [['activation', 'epochs', 'params'], 2]
      >>> sorted(run["epochs"][-1]["layers"])
      ['dense1', 'dense2', 'dense3', 'dense4']
    """
    mesh = sharding.data_mesh()
    ndev = mesh.size
    if cfg.batch_size % ndev or cfg.eval_batch % ndev:
        raise ValueError(f"batch sizes must be multiples of the {ndev} devices")
    xtr, ytr = _images(data.train_images), np.asarray(data.train_labels, np.int32)
    xte, yte = _images(data.test_images), np.asarray(data.test_labels, np.int32)
    steps = len(xtr) // cfg.batch_size
    if steps == 0:
        raise ValueError(f"fewer training images ({len(xtr)}) than one batch")
    model = make_model(cfg.model, activation, seed=cfg.seed)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = optimizer(cfg, steps)
    params = sharding.replicate(params, mesh)
    opt_state = sharding.replicate(tx.init(params), mesh)
    rest = sharding.replicate(rest, mesh)
    step, ev = make_step(graphdef, rest, tx, cfg), _evaluate(graphdef, rest, cfg)
    value_range = diagnostics.bounded_range(activation)
    name = activation if isinstance(activation, str) else getattr(activation, "__name__", "?")
    history: list[dict[str, Any]] = []
    ckpt = Path(out) if out is not None else None
    if resume and ckpt is not None and (ckpt / "checkpoint.json").exists():
        (params, opt_state), meta = _load(ckpt, (params, opt_state))
        changed = {k: (v, meta["config"].get(k)) for k, v in dataclasses.asdict(cfg).items()
                   if meta["config"].get(k) != v}
        if changed:  # a different run: it could not reach the uninterrupted run's numbers
            shown = ", ".join(f"{k} (checkpoint {old!r}, now {new!r})"
                              for k, (new, old) in changed.items())
            raise ValueError(f"{name}: cannot resume from {ckpt}: options differ: {shown}; "
                             "rerun with the checkpoint's options or another --out")
        params, opt_state = sharding.replicate((params, opt_state), mesh)
        history = meta["history"]
        log(f"{name}: resumed after epoch {len(history)}")
    base_key = jax.random.key(cfg.seed)
    for epoch in range(len(history) + 1, cfg.epochs + 1):
        order = np.random.default_rng((cfg.seed, epoch)).permutation(len(xtr))
        bar = progress(steps) if progress else None
        t0 = time.perf_counter()
        loss_sum, norms_sum = 0.0, {}
        for s in range(steps):
            idx = order[s * cfg.batch_size : (s + 1) * cfg.batch_size]
            x, y = sharding.shard_batch((xtr[idx], ytr[idx]), mesh)
            key = jax.random.fold_in(base_key, (epoch - 1) * steps + s)
            new_params, new_opt, loss, norms = step(params, opt_state, x, y, key)
            loss_f = float(loss)
            norms_f = {k: float(v) for k, v in norms.items()}
            if not np.isfinite(loss_f) or not all(map(np.isfinite, norms_f.values())):
                bad = [k for k, v in norms_f.items() if not np.isfinite(v)]
                raise NonFiniteError(
                    f"{name}: non-finite {'loss' if not np.isfinite(loss_f) else 'gradient'} at "
                    f"epoch {epoch}, step {s + 1}; non-finite gradients in layers "
                    f"{', '.join(bad) or 'none'}; last good checkpoint: "
                    f"{ckpt if ckpt and history else 'none'} (epoch {len(history)})"
                )
            params, opt_state = new_params, new_opt
            loss_sum += loss_f
            for k, v in norms_f.items():
                norms_sum[k] = norms_sum.get(k, 0.0) + v
            if bar is not None:
                bar.update(1)
        seconds = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        metrics = _epoch_metrics(graphdef, params, rest, ev, (xtr, ytr), (xte, yte), cfg, mesh)
        model = nnx.merge(graphdef, params, rest)
        taps: dict[str, jax.Array] = {}
        model(jnp.asarray(xte[: cfg.diag_batch]), taps=taps)
        record = {
            "epoch": epoch,
            "train_loss_running": loss_sum / steps,
            **metrics,
            "seconds": seconds,
            "images_per_s": steps * cfg.batch_size / seconds,
            "grad_norm": {k: v / steps for k, v in norms_sum.items()},
            "layers": diagnostics.activation_stats(taps, value_range),
            "learnable": diagnostics.learnable_values(model),
        }
        history.append(record)
        log(
            f"{name} epoch {epoch}/{cfg.epochs}: train loss {record['train_loss']:.4f} "
            f"acc {record['train_acc']:.4f}  test loss {record['test_loss']:.4f} "
            f"acc {record['test_acc']:.4f}  {seconds:.1f}s {record['images_per_s']:.0f} img/s"
        )
        if ckpt is not None:
            meta = {"activation": name, "config": dataclasses.asdict(cfg), "history": history}
            _save(ckpt, (params, opt_state), meta)
    n_params = sum(int(np.prod(v.shape)) for v in jax.tree.leaves(params))
    return {"activation": name, "params": n_params, "epochs": history}


def _epoch_metrics(graphdef, params, rest, ev, train, test, cfg, mesh) -> dict[str, float]:
    out = {}
    for split, (x, y) in (("train", train), ("test", test)):
        loss = correct = 0.0
        n = len(x) // cfg.eval_batch * cfg.eval_batch or len(x)
        bs = min(cfg.eval_batch, n)
        for i in range(0, n, bs):
            xb, yb = x[i : i + bs], y[i : i + bs]
            if len(xb) % mesh.size == 0:
                xb, yb = sharding.shard_batch((xb, yb), mesh)
            bl, bc = ev(params, xb, yb)
            loss, correct = loss + float(bl), correct + float(bc)
        out[f"{split}_loss"], out[f"{split}_acc"] = loss / n, correct / n
    return out


def compare(
    data: Any, activations: list[Any], cfg: Config = Config(), *, out: str | None = None, **kw: Any
) -> list[dict[str, Any]]:
    """Trains one model per activation with the same seed, data order and initial weights.

    ``out``: a checkpoint directory per activation under it; ``kw``: as :func:`train`.
    Returns the list of :func:`train` results, in order.
    """
    runs = []
    for act in activations:
        name = act if isinstance(act, str) else getattr(act, "__name__", "act")
        runs.append(train(data, act, cfg, out=None if out is None else Path(out) / name, **kw))
    return runs
