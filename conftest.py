"""Shared pytest setup: names for the doctests in jaxact/ and README; nothing global
(x64 stays off)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    """Lets docstring examples use ``ja``, ``jnp``, ``jax`` and ``np`` unimported."""
    import jaxact as ja  # here, not at the top: a broken package fails tests, not collection

    doctest_namespace.update(ja=ja, jnp=jnp, jax=jax, np=np)
