"""Training of small image classifiers with any jaxact activation (``jaxact train``).

``models`` builds the classic MNIST CNN or a deep MLP around an activation factory,
``loop`` trains one model (one jitted step, seeded shuffling, checkpoints, a guard against
non-finite values), ``diagnostics`` measures per-layer statistics, ``report`` writes the
comparison table, ``results.json`` and plots, ``sharding`` spreads the batch over devices.

Multi-host: call ``jax.distributed.initialize()`` in every process before ``jaxact train``
(or :func:`jaxact.training.loop.train`); ``jax.devices()`` then lists every host's devices,
the mesh spans them all and each step is data-parallel across hosts.
"""

from jaxact.training.loop import Config as Config
from jaxact.training.loop import NonFiniteError as NonFiniteError
from jaxact.training.loop import compare as compare
from jaxact.training.loop import train as train
from jaxact.training.models import make_model as make_model

__all__ = ["Config", "NonFiniteError", "compare", "make_model", "train"]
