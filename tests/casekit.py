"""Building blocks of the accuracy table: the ``Case`` record and mpmath helpers.

``tests/cases.py`` holds the core cases and gathers every ``tests/cases_*.py`` module's
``CASES``, so a family of activations brings its references in a file of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import mpmath as mp
import numpy as np

GRID_VERSION = 1  # bump when generate.py's grid changes; every table is then stale
Ref = Callable[[mp.mpf], mp.mpf]
# A parameter derivative: (x, p) -> df/dp at x, with that parameter set to p and the
# others at the case's values (p varies so that generate.py can differentiate in it).
DRef = Callable[[mp.mpf, mp.mpf], mp.mpf]


def _p(v: float) -> mp.mpf:
    """A hyper-parameter exactly as the float32 kernel sees it."""
    return mp.mpf(float(np.float32(v)))


def _zero(x: mp.mpf) -> mp.mpf:
    return mp.mpf(0)


@dataclasses.dataclass(frozen=True)
class Case:
    """One elementwise activation with one set of parameters.

    Attributes:
      id: case id, also the table's file name (``tests/reference/{id}.npz``).
      name: registry name; the test calls ``jaxact.get(name)(x, **params)``.
      formula: what ``f`` and ``df`` compute, in words; stored in the table, so an
        edit here marks the table stale.
      f, df: mpmath references of the function and its derivative (the derivative
        follows jaxact's convention at kinks, though kinks are not compared).
      d2f: the second derivative, only used for the conditioning unit; ``None`` is
        ``mpmath.diff(df, x)``.
      params: keyword arguments for the jaxact call.
      kinks: points whose derivative is not compared; ``None`` takes the registry's
        ``entry(name).kinks`` (parametric kinks must be listed here).
      points: where branches switch (kinks included); the grid adds each point and
        its float32 neighbours.
      roots: ``("f" | "df", guess)``: zeros of f or f' away from 0, refined by
        mpmath; the grid clusters there, where the conditioning unit applies.
      dparams: mpmath references of the derivatives in the parameters, keyed by the
        parameter's name, or ``"name[i]"`` for entry ``i`` of an array parameter (along
        its last axis). The table stores them as ``dp_<key>``, with the conditioning
        scale ``|x dg/dx| + |p dg/dp|`` of each (g = df/dp) as ``dps_<key>``. Edit the
        ``formula`` text when editing them, as for f and df.
    """

    id: str
    name: str
    formula: str
    f: Ref
    df: Ref
    d2f: Ref | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    kinks: tuple[float, ...] | None = None
    points: tuple[float, ...] = ()
    roots: tuple[tuple[str, float], ...] = ()
    dparams: Mapping[str, DRef] = dataclasses.field(default_factory=dict)

    def signature(self) -> str:
        """Everything the table depends on; a table whose signature differs is stale."""
        extra = f" dparams={list(self.dparams)}" if self.dparams else ""
        return (f"{self.name} {dict(self.params)} | {self.formula} | points={self.points} "
                f"roots={self.roots} grid={GRID_VERSION}{extra}")

    def param_value(self, key: str) -> Any:
        """The float32 value of parameter ``key`` (``"name"`` or ``"name[i]"``)."""
        name, _, index = key.partition("[")
        value = np.asarray(self.params[name], np.float32)
        return value[..., int(index[:-1])] if index else value


def sig(t: mp.mpf) -> mp.mpf:
    return 1 / (1 + mp.exp(-t))
