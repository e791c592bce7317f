"""Class docstrings of :mod:`jaxact.linen` and :mod:`jaxact.nnx`, written from ``_layers.SPECS``.

Each table entry holds what is particular to its layer (summary, notes, own arguments,
the printed output of its example); this module adds the arguments every layer shares
and the API's example, so both APIs describe a layer from the same text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from jaxact import _layers

Api = Literal["linen", "nnx"]

_LAYOUT_ARGS = (
    (
        "num_parameters",
        "``1`` (default): scalar parameters, any input shape; ``C``: one "
        "value per entry of ``axis``.",
    ),
    ("axis", "channel axis of per-channel parameters, default -1 (channels last; torch: 1)."),
    (
        "shared_axes",
        "``None`` (default) for the layouts above; else one value per element "
        "of ``x.shape[1:]``, shared along these axes of ``x`` (the batch axis 0 always is), "
        "the Keras layout: ``(1, 2)`` on ``(N, H, W, C)`` learns shape ``(1, 1, C)``, ``()`` "
        "one value per element. Not with ``num_parameters > 1``.",
    ),
)
_IN_FEATURES = (
    "in_features",
    "with ``shared_axes`` only, and then required: the input shape without the batch axis, "
    "``x.shape[1:]`` (an int for ``(N, F)`` inputs). nnx creates parameters at construction, "
    "before it sees an input, so it takes the size like ``nnx.Linear(in_features, ...)``; "
    "the entries of shared axes only count axes.",
)
_PROMOTE = {
    "linen": "``promote_dtype(x, *params, dtype=dtype)`` returns them in one dtype, as in "
    "``nn.Dense`` (default ``flax.linen.dtypes.promote_dtype``).",
    "nnx": "``promote_dtype((x, *params), dtype=dtype)`` returns them in one dtype, as in "
    "``nnx.Linear`` (default ``flax.nnx.nn.dtypes.promote_dtype``).",
}
_RNGS = ("rngs", "``nnx.Rngs``; ``param_init`` draws from ``rngs.params()``.")
_COMMON_ARGS = (
    (
        "param_init",
        "mapping parameter name -> initialiser ``init(key, shape, dtype)``; "
        "the others start at the values above.",
    ),
    (
        "dtype",
        "computation dtype; ``None`` (default): the result type of the input and the parameters.",
    ),
    ("param_dtype", "dtype of the parameters (default float32)."),
)
_EXAMPLES = {
    "linen": """  >>> import jax
  >>> import jax.numpy as jnp
  >>> from jaxact.linen import {cls}
  >>> layer = {cls}({kwargs})
  >>> x = jnp.array([-2.0, 0.0, 3.0])
  >>> variables = layer.init(jax.random.key(0), x)
  >>> jax.tree.map(jnp.shape, variables["params"])
  {shapes}
  >>> layer.apply(variables, x)
  {output}""",
    "nnx": """  >>> import jax.numpy as jnp
  >>> from flax import nnx
  >>> from jaxact.nnx import {cls}
  >>> layer = {cls}({kwargs}rngs=nnx.Rngs(0))
  >>> layer(jnp.array([-2.0, 0.0, 3.0]))
  {output}""",
}


def _wrap(name: str, text: str, width: int = 88) -> str:
    """One ``name: text`` entry of an Args section, wrapped; inline literals stay whole."""
    lines, line = [], f"  {name}:"
    for word in re.findall(r"[^\s`]*``[^`]*``[^\s`]*|\S+", text):
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = "   "
        line += " " + word
    return "\n".join([*lines, line])


def class_doc(spec: _layers.LayerSpec, api: Api) -> str:
    """The docstring of ``spec``'s layer class in ``api``: summary, arguments, example."""
    nnx = api == "nnx"
    args = (
        *spec.args,
        *_LAYOUT_ARGS,
        *([_IN_FEATURES] if nnx else []),
        *_COMMON_ARGS,
        ("promote_dtype", _PROMOTE[api]),
        *([_RNGS] if nnx else []),
    )
    shapes = {p.name: p.trailing for p in sorted(spec.params, key=lambda p: p.name)}
    kwargs = spec.example_kwargs + (", " if spec.example_kwargs and nnx else "")
    example = _EXAMPLES[api].format(
        cls=spec.cls_name, kwargs=kwargs, shapes=shapes, output=spec.example_output
    )
    notes = f"\n\n{spec.notes}" if spec.notes else ""
    body = "\n".join(_wrap(name, text) for name, text in args)
    return f"{spec.summary}{notes}\n\nArgs:\n{body}\n\nExamples:\n{example}\n"


def learnable(classes: Mapping[str, type]) -> dict[str, type]:
    """``LEARNABLE``: each table name and alias -> its class, checked against the table."""
    missing = set(_layers.SPECS) - set(classes)
    if missing:
        raise RuntimeError(f"SPECS entries without a layer class: {sorted(missing)}")
    return {alias: classes[n] for n, s in _layers.SPECS.items() for alias in (n, *s.aliases)}


def register(classes: dict[str, type], cls: type, api: Api) -> None:
    """File a table layer class under its table name and give it its docstring.

    Called from ``__init_subclass__``: a class that does not set ``spec_name`` itself (a
    subclass made by a Flax transform such as ``nn.scan``) is left as it is.
    """
    name = cls.__dict__.get("spec_name")
    if name is None:
        return
    spec = _layers.SPECS[name]
    if cls.__name__ != spec.cls_name:
        raise TypeError(f"SPECS[{name!r}] documents {spec.cls_name}, not {cls.__name__}")
    cls.__doc__ = class_doc(spec, api)
    classes[name] = cls
