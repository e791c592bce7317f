"""The registry: one table of every activation, read by docs, layers, CLI, bench and tests."""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

Kind = Literal["elementwise", "gated", "concatenated", "normalizer"]


@dataclasses.dataclass(frozen=True)
class Param:
    """A hyper-parameter of an activation: its name, default and meaning."""

    name: str
    default: Any
    doc: str


@dataclasses.dataclass(frozen=True)
class Kink:
    """A point where the derivative is not defined, and the value jaxact returns there."""

    at: float
    grad: float
    why: str


@dataclasses.dataclass(frozen=True)
class Entry:
    """Everything jaxact knows about one activation.

    Attributes:
      name: canonical name (``ja.get(name)`` returns ``fn``).
      fn: the public function.
      kind: ``"elementwise"`` (same shape out), ``"gated"`` (halves one axis),
        ``"concatenated"`` (doubles one axis) or
        ``"normalizer"`` (reduces or normalises along an axis).
      formula: LaTeX of the function.
      derivative: LaTeX of its derivative.
      params: hyper-parameters with defaults, in signature order.
      range: closed hull of the output range with default parameters.
      domain: the inputs where the function is defined (NaN outside).
      monotonic: non-decreasing everywhere (default parameters).
      smooth: infinitely differentiable everywhere (default parameters).
      kinks: points where the derivative jumps, with the convention chosen there.
      reference: the paper or source that defines it.
      source: where users know it from (``"jax.nn"``, ``"torch"``, ``"keras"``, ...).
      aliases: other names that resolve to this entry.
      keeps_int: integer inputs give integer outputs (piecewise-linear functions, as
        ``jax.nn``); otherwise they promote to the default float dtype.
      sample: keyword arguments that generic code (tests, plots, benchmarks) passes
        when the defaults do not make a complete call, e.g. a required ``alpha``.
    """

    name: str
    fn: Callable[..., Any]
    kind: Kind
    formula: str
    derivative: str
    params: tuple[Param, ...] = ()
    range: tuple[float, float] = (-math.inf, math.inf)
    domain: tuple[float, float] = (-math.inf, math.inf)
    monotonic: bool = True
    smooth: bool = True
    kinks: tuple[Kink, ...] = ()
    reference: str = ""
    source: str = "jax.nn"
    aliases: tuple[str, ...] = ()
    keeps_int: bool = False
    sample: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def bounded(self) -> bool:
        """True when the output range is finite on both sides."""
        return math.isfinite(self.range[0]) and math.isfinite(self.range[1])


_ENTRIES: dict[str, Entry] = {}
_ALIASES: dict[str, str] = {}


def register(entry: Entry, *, overwrite: bool = False) -> Entry:
    """Adds ``entry`` (and its aliases) to the registry.

    Args:
      entry: the activation to register.
      overwrite: replace an entry of the same name instead of raising.

    Returns:
      ``entry``, so that registration can be an expression.

    Raises:
      ValueError: if the name or an alias is taken and ``overwrite`` is False.

    Examples:
      >>> import jaxact as ja
      >>> cube = ja.Entry("cube", lambda x: x**3, "elementwise", "x^3", "3x^2",
      ...                 source="user")
      >>> _ = ja.register(cube)
      >>> float(ja.get("cube")(2.0))
      8.0
      >>> ja.unregister("cube")
    """
    if not isinstance(entry, Entry):
        raise TypeError(f"register: entry must be a jaxact.Entry, got {type(entry).__name__}")
    if not overwrite:
        for name in (entry.name, *entry.aliases):
            if name in _ENTRIES or name in _ALIASES:
                raise ValueError(f"register: the name {name!r} is already registered")
    _ENTRIES[entry.name] = entry
    for alias in entry.aliases:
        _ALIASES[alias] = entry.name
    return entry


def unregister(name: str) -> None:
    """Removes a registered entry and its aliases (for user-registered functions).

    Examples:
      >>> import jaxact as ja
      >>> _ = ja.register(ja.Entry("twice", lambda x: 2 * x, "elementwise", "2x", "2"))
      >>> ja.unregister("twice")
      >>> "twice" in ja.names()
      False
    """
    entry = _ENTRIES.pop(canonical(name))
    for alias in entry.aliases:
        _ALIASES.pop(alias, None)


def canonical(name: str) -> str:
    """Resolves an alias to its canonical name; raises ValueError for an unknown name.

    Examples:
      >>> import jaxact as ja
      >>> ja.canonical("hard_swish")
      'hard_silu'
      >>> ja.canonical("gleu")
      Traceback (most recent call last):
      ...
      ValueError: unknown activation 'gleu'; closest: ...
    """
    if name in _ENTRIES:
        return name
    if name in _ALIASES:
        return _ALIASES[name]
    known = sorted((*_ENTRIES, *_ALIASES))
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise ValueError(f"unknown activation {name!r}{hint}. See jaxact.names() for all.")


def entry(name: str) -> Entry:
    """The registry entry (metadata and function) for a name or alias.

    Examples:
      >>> import jaxact as ja
      >>> ja.entry("swish").name
      'silu'
    """
    return _ENTRIES[canonical(name)]


def get(name: str | Callable[..., Any] | None) -> Callable[..., Any]:
    """The activation function for a name, alias, callable or ``None``.

    Args:
      name: a registered name or alias, a callable (returned as is) or ``None``
        (the identity).

    Returns:
      The function.

    Raises:
      ValueError: for an unknown name; the message lists the closest names.
      TypeError: for anything that is not a string, callable or ``None``.

    Examples:
      >>> import jaxact as ja
      >>> ja.get("swish") is ja.silu
      True
      >>> ja.get(None) is ja.identity
      True
    """
    if name is None:
        return _ENTRIES["identity"].fn
    if isinstance(name, str):
        return entry(name).fn
    if callable(name):
        return name
    raise TypeError(f"get: name must be a string, a callable or None, got {type(name).__name__}")


def names(*, kind: Kind | None = None, source: str | None = None) -> list[str]:
    """Canonical names of all registered activations, sorted, optionally filtered.

    Examples:
      >>> import jaxact as ja
      >>> "gelu" in ja.names()
      True
      >>> "glu" in ja.names(kind="gated")
      True
    """
    return sorted(
        n
        for n, e in _ENTRIES.items()
        if (kind is None or e.kind == kind) and (source is None or e.source == source)
    )


def aliases() -> Mapping[str, str]:
    """A copy of the alias → canonical name table.

    Examples:
      >>> import jaxact as ja
      >>> ja.aliases()["swish"]
      'silu'
    """
    return dict(_ALIASES)
