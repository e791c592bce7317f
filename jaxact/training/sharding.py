"""Data parallelism: the batch sharded over a ``data`` mesh axis, parameters replicated.

The mesh spans ``jax.devices()``: every local device, or every device of every host after
``jax.distributed.initialize()``.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def data_mesh() -> Mesh:
    """A one-axis mesh named ``data`` over all devices."""
    return Mesh(np.array(jax.devices()), ("data",))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Places every leaf of ``tree`` on all devices of ``mesh``."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def shard_batch(tree: Any, mesh: Mesh) -> Any:
    """Splits the leading (batch) axis of every leaf over the ``data`` axis."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec("data")))
