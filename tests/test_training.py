"""jaxact train on tiny synthetic data: CLI output, resume, non-finite guard, sharding.

The full Fashion-MNIST runs are not tests (minutes each); these run tiny configurations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxact import datasets
from jaxact.cli import main
from jaxact.training import loop
from jaxact.training.models import make_model

TINY = loop.Config(
    model="mlp", epochs=3, batch_size=16, eval_batch=64, diag_batch=64, lr=1e-2, shift=0
)


def synthetic(seed: int = 0, n_train: int = 128, n_test: int = 64) -> types.SimpleNamespace:
    """Images whose class sets the brightness of one of ten stripes, plus noise: learnable."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, n)
        x = rng.integers(0, 100, (n, 28, 28))
        for i, c in enumerate(y):
            x[i, 2 * c + 4 : 2 * c + 6] += 150
        return x.astype(np.uint8), y

    (xtr, ytr), (xte, yte) = make(n_train), make(n_test)
    return types.SimpleNamespace(
        train_images=xtr, train_labels=ytr, test_images=xte, test_labels=yte
    )


def test_cli_train_writes_results_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = synthetic(n_train=96, n_test=40)
    for field, base in datasets.FILES.items():
        datasets.write_idx(tmp_path / f"{base}.gz", getattr(data, field).astype(np.uint8))
    out = tmp_path / "out"
    argv = [
        "train",
        "--activation",
        "relu,tanh",
        "--dataset",
        "mnist",
        "--data-dir",
        str(tmp_path),
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--model",
        "mlp",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "relu" in text and "tanh" in text and "test acc" in text
    doc = json.loads((out / "results.json").read_text())
    assert doc["config"]["activations"] == ["relu", "tanh"]
    assert doc["config"]["model"] == "mlp" and doc["config"]["n_train"] == 96
    env = doc["environment"]
    assert env["platform"] == jax.default_backend() and env["jax"] == jax.__version__
    relu, tanh = doc["runs"]
    assert [e["epoch"] for e in relu["epochs"]] == [1, 2]
    last = tanh["epochs"][-1]
    assert 0 <= last["test_acc"] <= 1 and np.isfinite(last["test_loss"])
    assert set(last["grad_norm"]) == {"dense1", "dense2", "dense3", "dense4", "out"}
    assert set(last["layers"]) == {"dense1", "dense2", "dense3", "dense4"}
    assert 0 <= last["layers"]["dense1"]["dead"] <= 1
    assert 0 <= last["layers"]["dense1"]["saturated"] <= 1  # tanh is bounded, relu is not
    assert "saturated" not in relu["epochs"][-1]["layers"]["dense1"]
    for png in ("curves.png", "grad_norms.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "relu" / "checkpoint.msgpack").exists()


def test_same_initial_weights_across_activations() -> None:
    a = nnx.state(make_model("cnn", "relu", seed=3), nnx.Param)
    b = nnx.state(make_model("cnn", "gelu", seed=3), nnx.Param)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_training_learns() -> None:
    hist = loop.train(synthetic(), "relu", TINY)["epochs"]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert hist[-1]["test_acc"] > 0.5  # chance is 0.1


def test_cross_entropy_tracks_optax_over_300_steps() -> None:
    """jaxact's log_softmax (custom_jvp) drives training like optax's reference loss.

    Two copies of a small MLP train with plain SGD, one on each loss. Both losses are exact
    to float32 rounding, so the trajectories differ only by rounding: over 300 steps the
    losses agree to 1e-4 relative (measured: at most 8e-6, while the loss falls 600-fold).
    """
    data = synthetic(n_train=256)
    x = jnp.asarray(data.train_images, jnp.float32).reshape(256, -1) / 255
    y = jnp.asarray(data.train_labels)
    model = make_model("mlp", "gelu", seed=0)
    graphdef, params = nnx.split(model, nnx.Param)
    tx = optax.sgd(0.05)

    def run(loss_of):
        def loss_fn(p):
            return loss_of(nnx.merge(graphdef, p)(x), y)

        @jax.jit
        def step(p, s):
            loss, g = jax.value_and_grad(loss_fn)(p)
            u, s = tx.update(g, s, p)
            return optax.apply_updates(p, u), s, loss

        p, s, losses = params, tx.init(params), []
        for _ in range(300):
            p, s, loss = step(p, s)
            losses.append(float(loss))
        return np.array(losses)

    ours = run(lambda logits, y: loop.cross_entropy(logits, y))
    ref = run(lambda logits, y: optax.softmax_cross_entropy_with_integer_labels(logits, y).mean())
    assert ours[-1] < 0.5 * ours[0]  # it trained
    np.testing.assert_allclose(ours, ref, rtol=1e-4)


class _Interrupt:
    def __init__(self, at_epoch: int) -> None:
        self.epoch, self.at = 0, at_epoch

    def __call__(self, steps: int) -> _Interrupt:
        self.epoch += 1
        return self

    def update(self, n: int) -> None:
        if self.epoch == self.at:
            raise KeyboardInterrupt

    def close(self) -> None:
        pass


def _strip(hist: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k not in ("seconds", "images_per_s")} for e in hist]


def test_resume_matches_uninterrupted(tmp_path: Path) -> None:
    """Exactly equal: shuffling and augmentation keys depend only on (seed, epoch, step) and
    the same XLA program runs on the same CPU, so the resumed run repeats the same floats."""
    data = synthetic()
    full = loop.train(data, "relu", TINY, out=tmp_path / "full")
    with pytest.raises(KeyboardInterrupt):
        loop.train(data, "relu", TINY, out=tmp_path / "cut", progress=_Interrupt(2))
    assert len(json.loads((tmp_path / "cut" / "checkpoint.json").read_text())["history"]) == 1
    resumed = loop.train(data, "relu", TINY, out=tmp_path / "cut", resume=True)
    assert _strip(resumed["epochs"]) == _strip(full["epochs"])


def test_resume_refuses_other_options(tmp_path: Path) -> None:
    data = synthetic()
    with pytest.raises(KeyboardInterrupt):
        loop.train(data, "relu", TINY, out=tmp_path, progress=_Interrupt(2))
    other = loop.Config(**{**TINY.__dict__, "lr": 0.5})
    with pytest.raises(ValueError, match=r"options differ: lr \(checkpoint 0.01, now 0.5\)"):
        loop.train(data, "relu", other, out=tmp_path, resume=True)


def test_non_finite_names_epoch_step_layer_and_keeps_checkpoint(tmp_path: Path) -> None:
    """A checkpoint whose first layer is scaled by 1e30 (as after a divergent update)
    overflows at the first step of epoch 2; the run stops and leaves that checkpoint."""
    data = synthetic()
    ok = loop.Config(**{**TINY.__dict__, "epochs": 2, "schedule": "constant"})
    with pytest.raises(KeyboardInterrupt):
        loop.train(data, "relu", ok, out=tmp_path, progress=_Interrupt(2))
    ckpt = tmp_path / "checkpoint.msgpack"
    leaves = flax.serialization.msgpack_restore(ckpt.read_bytes())
    big = max(leaves, key=lambda k: leaves[k].size)  # the first dense kernel
    leaves[big] = leaves[big] * np.float32(1e30)
    ckpt.write_bytes(flax.serialization.msgpack_serialize(leaves))
    bad = ckpt.read_bytes()
    with pytest.raises(loop.NonFiniteError, match=r"epoch 2, step 1; .*layers .*dense") as e:
        loop.train(data, "relu", ok, out=tmp_path, resume=True)
    assert "(epoch 1)" in str(e.value)
    assert ckpt.read_bytes() == bad


SHARDED = """
import json, sys
sys.path.insert(0, {tests!r})
import jax
from test_training import TINY, synthetic
from jaxact.training import loop
assert jax.device_count() == {n}
print(json.dumps(loop.train(synthetic(), "relu", TINY)["epochs"]))
"""


def _train_on_cpu_devices(n: int) -> list[dict]:
    """The TINY relu run in a fresh process on ``n`` forced host (CPU) devices: on a
    GPU machine too, so both sides of the comparison run on the same kind of device."""
    env = {
        **os.environ,
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={n}",
        "JAX_PLATFORMS": "cpu",
    }
    code = SHARDED.format(tests=str(Path(__file__).parent), n=n)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_sharded_over_4_cpu_devices_matches_one_device() -> None:
    """Data-parallel over 4 forced host devices gives the 1-device numbers up to float32
    reassociation of the batch sums (1e-5 relative)."""
    sharded, single = _train_on_cpu_devices(4), _train_on_cpu_devices(1)
    for a, b in zip(sharded, single, strict=True):
        for k in ("train_loss", "test_loss", "train_loss_running"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-5)
        assert abs(a["test_acc"] - b["test_acc"]) <= 1 / 64


class _Slope(nnx.Module):
    """A learnable leaky slope: max(x, 0) + alpha * min(x, 0), alpha starting at 0.25."""

    def __init__(self, *, rngs: nnx.Rngs) -> None:
        self.alpha = nnx.Param(jnp.full((), 0.25))

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.maximum(x, 0) + self.alpha[...] * jnp.minimum(x, 0)


def test_learnable_layer_class_trains_per_layer_parameters() -> None:
    cfg = loop.Config(**{**TINY.__dict__, "epochs": 1})
    hist = loop.train(synthetic(), _Slope, cfg)["epochs"]
    learned = hist[-1]["learnable"]
    assert set(learned) == {"act1", "act2", "act3", "act4"}
    alphas = [v["alpha"] for v in learned.values()]
    assert all(a != 0.25 for a in alphas)  # trained
    assert len(set(alphas)) == 4  # one parameter per layer


def test_dead_and_saturated_fractions() -> None:
    from jaxact.training import diagnostics

    h = jnp.array([[0.0, 1.0, 1.0], [0.0, 2.0, 1.0]])  # unit 0 always 0, unit 2 constant
    assert diagnostics.dead_fraction(h) == pytest.approx(2 / 3)
    assert diagnostics.saturation_fraction(jnp.array([0.0, 0.5, 0.995, 1.0]), (0.0, 1.0)) == 0.75
    assert diagnostics.bounded_range("tanh") == (-1.0, 1.0)
    assert diagnostics.bounded_range("relu") is None


def test_cnn_with_a_learnable_layer_trains_with_augmentation() -> None:
    """The CNN (the model of the README's runs) with PReLU, flips and shifts: its four
    activation sites report statistics, gradient norms and their own slopes, and the
    loss falls."""
    cfg = loop.Config(**{**TINY.__dict__, "model": "cnn", "epochs": 2, "shift": 1, "lr": 3e-3})
    hist = loop.train(synthetic(n_train=96, n_test=64), "prelu", cfg)["epochs"]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    layers = ("conv1", "conv2", "conv3", "dense1")
    for record in hist:
        assert set(record["layers"]) == set(layers)
        assert {k for k in record["grad_norm"] if k.startswith(layers)}, record["grad_norm"]
        assert all(np.isfinite(v) and v > 0 for v in record["grad_norm"].values())
    slopes = [v for layer in hist[-1]["learnable"].values() for v in layer.values()]
    assert len(slopes) == 4 and all(s != 0.25 for s in slopes)
