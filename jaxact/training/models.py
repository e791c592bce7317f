"""The classic MNIST CNN and a deep MLP, built around an activation factory.

Every activation site gets its own instance from the factory, so a learnable activation
(``jaxact.nnx.LEARNABLE``) trains separate parameters per layer. Layer weights are drawn
from ``rngs`` and activation parameters from a separate stream, so models that differ only
in their activation start from the same weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
from flax import nnx

import jaxact as ja

Activation = Callable[[jax.Array], jax.Array]
Factory = Callable[[nnx.Rngs], Activation]


def learnable_layers() -> dict[str, type]:
    """The learnable activation layers, ``jaxact.nnx.LEARNABLE`` (imported lazily)."""
    import jaxact.nnx as jnnx

    return jnnx.LEARNABLE


def activation_factory(spec: str | Activation | type) -> Factory:
    """A factory ``rngs -> activation`` for a name, a callable or a layer class.

    A name in ``jaxact.nnx.LEARNABLE`` is a learnable layer; any other name is looked up
    with ``jaxact.get``. A class is instantiated as ``cls(rngs=rngs)``.

    Examples:
      >>> act = activation_factory("relu")(nnx.Rngs(0))
      >>> act(jax.numpy.array([-1.0, 2.0]))
      Array([0., 2.], dtype=float32)
    """
    if isinstance(spec, type):
        return lambda rngs: spec(rngs=rngs)
    if isinstance(spec, str):
        name = spec.strip().lower()
        try:
            layers = learnable_layers()
        except ModuleNotFoundError:  # the layers are optional for registry names
            layers = {}
        if name in layers:
            cls = layers[name]
            return lambda rngs: cls(rngs=rngs)
        fn = ja.get(name)
        return lambda rngs: fn
    if callable(spec):
        return lambda rngs: spec
    raise TypeError(f"activation must be a name, a callable or a layer class, got {spec!r}")


class CNN(nnx.Module):
    """Conv 3x3·32 → max-pool 2 → Conv 3x3·64 → max-pool 2 → Conv 3x3·64 → Dense 64 → Dense 10.

    Input ``(batch, 28, 28, 1)``; an activation follows each layer but the last.
    """

    LAYERS = ("conv1", "conv2", "conv3", "dense1")

    def __init__(self, act: Factory, rngs: nnx.Rngs, act_rngs: nnx.Rngs, classes: int = 10):
        self.conv1 = nnx.Conv(1, 32, (3, 3), padding="VALID", rngs=rngs)
        self.conv2 = nnx.Conv(32, 64, (3, 3), padding="VALID", rngs=rngs)
        self.conv3 = nnx.Conv(64, 64, (3, 3), padding="VALID", rngs=rngs)
        self.dense1 = nnx.Linear(3 * 3 * 64, 64, rngs=rngs)
        self.out = nnx.Linear(64, classes, rngs=rngs)
        self.act1, self.act2, self.act3, self.act4 = (act(act_rngs) for _ in range(4))

    def __call__(self, x: jax.Array, *, taps: dict[str, jax.Array] | None = None) -> jax.Array:
        """Logits; when ``taps`` is a dict, each layer's activation output is stored in it."""
        pool = lambda h: nnx.max_pool(h, (2, 2), strides=(2, 2))
        h = self._act("conv1", self.act1, self.conv1(x), taps)
        h = self._act("conv2", self.act2, self.conv2(pool(h)), taps)
        h = self._act("conv3", self.act3, self.conv3(pool(h)), taps)
        h = self._act("dense1", self.act4, self.dense1(h.reshape(h.shape[0], -1)), taps)
        return self.out(h)

    @staticmethod
    def _act(name: str, act: Activation, h: jax.Array, taps: dict[str, Any] | None) -> jax.Array:
        h = act(h)
        if taps is not None:
            taps[name] = h
        return h


class MLP(nnx.Module):
    """Flatten → ``depth`` × (Dense ``width`` → activation) → Dense ``classes``."""

    def __init__(
        self,
        act: Factory,
        rngs: nnx.Rngs,
        act_rngs: nnx.Rngs,
        *,
        inputs: int = 784,
        width: int = 256,
        depth: int = 4,
        classes: int = 10,
    ):
        self.depth = depth
        for i in range(depth):
            setattr(
                self, f"dense{i + 1}", nnx.Linear(inputs if i == 0 else width, width, rngs=rngs)
            )
        self.out = nnx.Linear(width, classes, rngs=rngs)
        for i in range(depth):
            setattr(self, f"act{i + 1}", act(act_rngs))
        self.LAYERS = tuple(f"dense{i + 1}" for i in range(depth))

    def __call__(self, x: jax.Array, *, taps: dict[str, jax.Array] | None = None) -> jax.Array:
        """Logits; when ``taps`` is a dict, each layer's activation output is stored in it."""
        h = x.reshape(x.shape[0], -1)
        for i, name in enumerate(self.LAYERS):
            h = getattr(self, f"act{i + 1}")(getattr(self, name)(h))
            if taps is not None:
                taps[name] = h
        return self.out(h)


def make_model(kind: str, activation: str | Activation | type, *, seed: int = 0) -> nnx.Module:
    """A ``"cnn"`` or ``"mlp"`` model whose layer weights depend only on ``seed``.

    Examples:
      >>> m = make_model("cnn", "relu", seed=0)
      >>> m(jax.numpy.zeros((2, 28, 28, 1))).shape
      (2, 10)
    """
    factory = activation_factory(activation)
    rngs, act_rngs = nnx.Rngs(seed), nnx.Rngs(seed + 1)
    if kind == "cnn":
        return CNN(factory, rngs, act_rngs)
    if kind == "mlp":
        return MLP(factory, rngs, act_rngs)
    raise ValueError(f"unknown model {kind!r}; choose cnn or mlp")
