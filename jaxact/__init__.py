"""jaxact: accurate, memory-lean activation functions for JAX.

``import jaxact as ja; ja.gelu(x)`` — every function is a drop-in for its ``jax.nn``
namesake (same names, arguments and defaults), jit-compiled, with ``custom_jvp``
derivatives that stay accurate over the whole float32 range, and reachable by name
through the registry (``ja.get("gelu")``).
"""

from jaxact._exponential import celu as celu
from jaxact._exponential import elu as elu
from jaxact._exponential import log1mexp as log1mexp
from jaxact._exponential import selu as selu
from jaxact._gated import gelu as gelu
from jaxact._gated import hard_silu as hard_silu
from jaxact._gated import hard_swish as hard_swish
from jaxact._gated import mish as mish
from jaxact._gated import silu as silu
from jaxact._gated import swish as swish
from jaxact._glu import bilinear as bilinear
from jaxact._glu import geglu as geglu
from jaxact._glu import glu as glu
from jaxact._glu import reglu as reglu
from jaxact._glu import swiglu as swiglu
from jaxact._gumbel import gumbel_softmax as gumbel_softmax
from jaxact._logistic import log_sigmoid as log_sigmoid
from jaxact._logistic import sigmoid as sigmoid
from jaxact._logistic import soft_sign as soft_sign
from jaxact._logistic import softplus as softplus
from jaxact._logistic import squareplus as squareplus
from jaxact._logistic import tanh as tanh
from jaxact._normalizers import log_softmax as log_softmax
from jaxact._logsumexp import logmeanexp as logmeanexp
from jaxact._logsumexp import logsumexp as logsumexp
from jaxact._normalizers import softmax as softmax
from jaxact._normalizers import softmin as softmin
from jaxact._piecewise import hard_sigmoid as hard_sigmoid
from jaxact._piecewise import hard_tanh as hard_tanh
from jaxact._piecewise import identity as identity
from jaxact._piecewise import leaky_relu as leaky_relu
from jaxact._piecewise import relu as relu
from jaxact._piecewise import relu6 as relu6
from jaxact._piecewise import sparse_plus as sparse_plus
from jaxact._piecewise import sparse_sigmoid as sparse_sigmoid
from jaxact._registry import Entry as Entry
from jaxact._registry import Kink as Kink
from jaxact._registry import Param as Param
from jaxact._registry import aliases as aliases
from jaxact._registry import canonical as canonical
from jaxact._registry import entry as entry
from jaxact._registry import get as get
from jaxact._registry import names as names
from jaxact._registry import register as register
from jaxact._registry import unregister as unregister
from jaxact._shrink import hard_shrink as hard_shrink
from jaxact._shrink import soft_shrink as soft_shrink
from jaxact._shrink import tanh_shrink as tanh_shrink
from jaxact._shrink import threshold as threshold
from jaxact._sparse import entmax as entmax
from jaxact._sparse import entmax15 as entmax15
from jaxact._sparse import sparsemax as sparsemax
from jaxact._torchlike import crelu as crelu
from jaxact._torchlike import exponential as exponential
from jaxact._torchlike import prelu as prelu
from jaxact._torchlike import relu_general as relu_general
from jaxact._torchlike import rrelu as rrelu

__version__ = "0.1.0"

__all__ = [
    "Entry",
    "Kink",
    "Param",
    "aliases",
    "bilinear",
    "canonical",
    "celu",
    "crelu",
    "elu",
    "entmax",
    "entmax15",
    "entry",
    "exponential",
    "geglu",
    "gelu",
    "get",
    "glu",
    "gumbel_softmax",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "identity",
    "leaky_relu",
    "log1mexp",
    "log_sigmoid",
    "log_softmax",
    "logmeanexp",
    "logsumexp",
    "mish",
    "names",
    "prelu",
    "register",
    "reglu",
    "relu",
    "relu6",
    "relu_general",
    "rrelu",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "soft_sign",
    "softmax",
    "softmin",
    "softplus",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swiglu",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
    "unregister",
]
