"""The public API: every name documented, registered and shaped like its jax.nn namesake."""

from __future__ import annotations

import inspect
import re
import types
import typing

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact as ja
from jaxact import _registry

MATH = re.compile(r"\.\. math::|:math:`")
EXAMPLES = re.compile(r"^\s*Examples:\s*\n(?:\s*\n)*\s+>>> ", re.MULTILINE)


def _is_helper(obj: object) -> bool:
    """Registry helpers, classes and submodules: public, but not activations."""
    return (
        isinstance(obj, (type, types.ModuleType))
        or getattr(obj, "__module__", None) == _registry.__name__
    )


PUBLIC = sorted(ja.__all__)
FUNCTIONS = [n for n in PUBLIC if callable(getattr(ja, n, None)) and not _is_helper(getattr(ja, n))]
HELPERS = [n for n in PUBLIC if n not in FUNCTIONS]
# Every callable in jax.nn that jaxact also exports: these must keep jax.nn's signature.
SHARED_WITH_JAX_NN = [n for n in FUNCTIONS if callable(getattr(jax.nn, n, None))]


def test_all_is_unique_and_defined() -> None:
    assert len(set(ja.__all__)) == len(ja.__all__), "duplicates in jaxact.__all__"
    missing = [n for n in ja.__all__ if not hasattr(ja, n)]
    assert not missing, f"in __all__ but not defined: {missing}"


def test_public_api_is_not_empty() -> None:
    # Guards the parametrized tests below against silently running on nothing.
    assert len(FUNCTIONS) >= 20
    assert {"get", "names", "register", "entry"} <= set(HELPERS)


@pytest.mark.parametrize("name", PUBLIC)
def test_has_docstring(name: str) -> None:
    doc = inspect.getdoc(getattr(ja, name))
    assert doc, f"jaxact.{name} has no docstring"
    assert not doc.startswith(" "), f"jaxact.{name}'s docstring starts with blank space"
    bad = sorted({c for c in doc if not c.isprintable() and c != "\n"})
    assert not bad, f"jaxact.{name}: control characters {bad} in the docstring; use r-strings"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_activation_docstring_has_math_and_examples(name: str) -> None:
    doc = inspect.getdoc(getattr(ja, name)) or ""
    assert MATH.search(doc), f"jaxact.{name}: docstring needs a `.. math::` or :math: formula"
    assert EXAMPLES.search(doc), f"jaxact.{name}: docstring needs an `Examples:` doctest"


@pytest.mark.parametrize("name", [n for n in HELPERS if inspect.isfunction(getattr(ja, n))])
def test_helper_docstring_has_examples(name: str) -> None:
    doc = inspect.getdoc(getattr(ja, name)) or ""
    assert EXAMPLES.search(doc), f"jaxact.{name}: docstring needs an `Examples:` doctest"


def test_every_registered_function_is_exported() -> None:
    exported = {id(getattr(ja, n)) for n in FUNCTIONS}
    for name in ja.names():
        assert name in ja.__all__, f"registered {name!r} is not in jaxact.__all__"
        assert getattr(ja, name) is ja.get(name), f"jaxact.{name} is not the registered function"
        for alias in ja.entry(name).aliases:  # exported or not, one function
            assert getattr(ja, alias, ja.get(name)) is ja.get(name), f"jaxact.{alias}"
        assert id(ja.get(name)) in exported


def test_every_exported_activation_is_registered() -> None:
    registered = {*ja.names(), *_registry.aliases()}
    unregistered = [n for n in FUNCTIONS if n not in registered]
    assert not unregistered, f"exported but not registered: {unregistered}"


@pytest.mark.parametrize("name", sorted(ja.names()))
def test_entry_metadata(name: str) -> None:
    e = ja.entry(name)
    assert e.name == name
    assert e.kind in typing.get_args(ja._registry.Kind)
    assert e.formula.strip(), f"{name}: formula needed"
    assert e.derivative.strip(), f"{name}: derivative needed"
    for tex in (e.formula, e.derivative):  # "\frac" in a non-raw string is a form feed + "rac"
        assert tex.isprintable(), f"{name}: control character in LaTeX {tex!r}; use r-strings"
    assert e.range[0] <= e.range[1]
    params = list(inspect.signature(e.fn).parameters)
    for p in e.params:
        assert p.name in params, f"{name}: Param {p.name!r} is not in the signature"
        default = inspect.signature(e.fn).parameters[p.name].default
        assert _same_default(p.default, default), f"{name}.{p.name}: {p.default!r} vs {default!r}"
    if e.kinks:
        assert not e.smooth, f"{name}: has kinks but is marked smooth"


@pytest.mark.parametrize(("alias", "name"), [("swish", "silu"), ("hard_swish", "hard_silu")])
def test_aliases_resolve(alias: str, name: str) -> None:
    assert ja.get(alias) is ja.get(name) is getattr(ja, name)
    assert getattr(ja, alias) is getattr(ja, name)
    assert ja.entry(alias) is ja.entry(name)
    assert ja.entry(alias).name == name
    assert alias in ja.entry(name).aliases


def test_unknown_name_lists_close_names() -> None:
    with pytest.raises(ValueError, match=r"unknown activation 'gleu'.*gelu"):
        ja.get("gleu")
    with pytest.raises(ValueError, match="sigmoid"):
        ja.entry("sigmoyd")


def test_get_none_is_identity() -> None:
    assert ja.get(None) is ja.identity
    x = jnp.arange(3.0)
    assert (ja.get(None)(x) == x).all()


def test_get_callable_is_returned_as_is() -> None:
    def mine(x: jax.Array) -> jax.Array:
        return x

    assert ja.get(mine) is mine
    assert ja.get(jax.nn.relu) is jax.nn.relu


def test_get_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        ja.get(3)  # type: ignore[arg-type]


@pytest.fixture
def cube_entry():
    """A user entry registered for one test and removed afterwards, pass or fail."""
    entry = ja.Entry(
        "test_cube",
        lambda x: jnp.asarray(x) ** 3,
        "elementwise",
        "x^3",
        "3x^2",
        source="user",
        aliases=("test_cube_alias",),
    )
    ja.register(entry)
    yield entry
    if "test_cube" in ja.names():
        ja.unregister("test_cube")


def test_register_user_function(cube_entry) -> None:
    assert "test_cube" in ja.names()
    assert "test_cube" in ja.names(source="user")
    assert ja.get("test_cube_alias") is cube_entry.fn
    assert float(ja.get("test_cube")(2.0)) == 8.0
    ja.unregister("test_cube")
    assert "test_cube" not in ja.names()
    with pytest.raises(ValueError, match="unknown activation"):
        ja.get("test_cube_alias")


def test_register_duplicates_raise(cube_entry) -> None:
    with pytest.raises(ValueError, match="already registered"):
        ja.register(cube_entry)
    with pytest.raises(ValueError, match="already registered"):
        ja.register(ja.Entry("gelu", cube_entry.fn, "elementwise", "x^3", "3x^2"))
    with pytest.raises(ValueError, match="already registered"):  # an alias taken as a name
        ja.register(ja.Entry("swish", cube_entry.fn, "elementwise", "x^3", "3x^2"))
    replaced = ja.register(cube_entry, overwrite=True)
    assert replaced is cube_entry
    assert ja.entry("test_cube") is cube_entry


def test_register_rejects_non_entries() -> None:
    with pytest.raises(TypeError):
        ja.register(lambda x: x)  # type: ignore[arg-type]


def _same_default(a: object, b: object) -> bool:
    """Equal defaults; ``4`` and ``4.0`` are equal, ``True`` and ``1`` are not."""
    if a is b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


@pytest.mark.parametrize("name", SHARED_WITH_JAX_NN)
def test_signature_matches_jax_nn(name: str) -> None:
    """jaxact is a drop-in for jax.nn: its parameters, in order, kinds and defaults.

    jaxact may add parameters, but only keyword-only ones with defaults, so any call that
    works with jax.nn works the same way with jaxact.
    """
    theirs = list(inspect.signature(getattr(jax.nn, name)).parameters.values())
    ours = list(inspect.signature(getattr(ja, name)).parameters.values())
    P = inspect.Parameter
    assert len(ours) >= len(theirs), f"{name}: jaxact drops parameters of jax.nn.{name}"
    for t, o in zip(theirs, ours, strict=False):
        where = f"{name}: parameter {o.name!r} (jax.nn: {t.name!r})"
        if t.kind is P.POSITIONAL_ONLY:  # the name is not part of jax.nn's API
            assert o.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD), where
        else:
            assert o.name == t.name, f"{where}: name differs"
            assert o.kind is t.kind, f"{where}: kind {o.kind} vs {t.kind}"
        assert _same_default(o.default, t.default), (
            f"{where}: default {o.default!r} vs jax.nn's {t.default!r}"
        )
    for extra in ours[len(theirs) :]:
        assert extra.kind is P.KEYWORD_ONLY, (
            f"{name}: extension {extra.name!r} must be keyword-only"
        )
        assert extra.default is not P.empty, f"{name}: extension {extra.name!r} needs a default"


# celu(-0): jaxact gives alpha expm1(-0 / alpha) = -0, the sign of its x <= 0 piece;
# jax.nn's max(x, 0) + alpha expm1(min(x, 0) / alpha) adds +0 to that and returns +0.
_ZERO_SIGN_DIFFERS = {"celu"}


@pytest.mark.parametrize("name", [n for n in SHARED_WITH_JAX_NN if n not in _ZERO_SIGN_DIFFERS
                                  and ja.entry(n).kind == "elementwise"])
def test_signed_zero_matches_jax_nn(name: str) -> None:
    """f(-0) and f(+0) carry jax.nn's signs (tanh(-0) = -0, elu(-0) = -0, ...)."""
    x = jnp.array([-0.0, 0.0])
    ours, theirs = np.asarray(getattr(ja, name)(x)), np.asarray(getattr(jax.nn, name)(x))
    assert np.signbit(ours).tolist() == np.signbit(theirs).tolist(), (name, ours, theirs)


def test_signature_check_covers_jax_nn_activations() -> None:
    # The activations of jax.nn that jaxact promises to replace, all of them.
    # fmt: off
    expected = {
        "celu", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
        "identity", "leaky_relu", "log1mexp", "log_sigmoid", "log_softmax", "logmeanexp",
        "logsumexp", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "soft_sign", "softmax",
        "softplus", "sparse_plus", "sparse_sigmoid", "squareplus", "swish", "tanh",
    }
    # fmt: on
    expected &= {n for n in dir(jax.nn) if not n.startswith("_")}
    missing = sorted(expected - set(SHARED_WITH_JAX_NN))
    assert not missing, f"jax.nn activations missing from jaxact: {missing}"
