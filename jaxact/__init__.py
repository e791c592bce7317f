"""jaxact: accurate, memory-lean activation functions for JAX.

``import jaxact as ja; ja.gelu(x)`` — every function is a drop-in for its ``jax.nn``
namesake (same names, arguments and defaults), jit-compiled, with ``custom_jvp``
derivatives that stay accurate over the whole float32 range, and reachable by name
through the registry (``ja.get("gelu")``).
"""

from jaxact._adaptive import acon_c as acon_c
from jaxact._apl import apl as apl
from jaxact._aptx import aptx as aptx
from jaxact._bounded import elliott as elliott
from jaxact._bounded import gaussian as gaussian
from jaxact._bounded import isrlu as isrlu
from jaxact._bounded import isru as isru
from jaxact._bounded import sinc as sinc
from jaxact._entmax import entmax as entmax
from jaxact._erfact import erfact as erfact
from jaxact._erfact import pserf as pserf
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
from jaxact._learnable import sine as sine
from jaxact._learnable import snake as snake
from jaxact._learnable import srelu as srelu
from jaxact._learnable import star_relu as star_relu
from jaxact._log_gated import logish as logish
from jaxact._log_gated import serf as serf
from jaxact._log_gated import smish as smish
from jaxact._logistic import log_sigmoid as log_sigmoid
from jaxact._logistic import sigmoid as sigmoid
from jaxact._logistic import soft_sign as soft_sign
from jaxact._logistic import softplus as softplus
from jaxact._logistic import squareplus as squareplus
from jaxact._logistic import tanh as tanh
from jaxact._logsumexp import logmeanexp as logmeanexp
from jaxact._logsumexp import logsumexp as logsumexp
from jaxact._normalizers import log_softmax as log_softmax
from jaxact._normalizers import softmax as softmax
from jaxact._normalizers import softmin as softmin
from jaxact._pelu import pelu as pelu
from jaxact._piecewise import hard_sigmoid as hard_sigmoid
from jaxact._piecewise import hard_tanh as hard_tanh
from jaxact._piecewise import identity as identity
from jaxact._piecewise import leaky_relu as leaky_relu
from jaxact._piecewise import relu as relu
from jaxact._piecewise import relu6 as relu6
from jaxact._piecewise import sparse_plus as sparse_plus
from jaxact._piecewise import sparse_sigmoid as sparse_sigmoid
from jaxact._rational import rational as rational
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
from jaxact._shapes import bent_identity as bent_identity
from jaxact._shapes import elish as elish
from jaxact._shapes import gcu as gcu
from jaxact._shapes import hard_elish as hard_elish
from jaxact._shapes import hard_mish as hard_mish
from jaxact._shapes import shifted_softplus as shifted_softplus
from jaxact._shapes import squared_relu as squared_relu
from jaxact._shrink import hard_shrink as hard_shrink
from jaxact._shrink import soft_shrink as soft_shrink
from jaxact._shrink import tanh_shrink as tanh_shrink
from jaxact._shrink import threshold as threshold
from jaxact._smooth import e_swish as e_swish
from jaxact._smooth import lisht as lisht
from jaxact._smooth import quick_gelu as quick_gelu
from jaxact._smooth import tanhexp as tanhexp
from jaxact._soft_exponential import soft_exponential as soft_exponential
from jaxact._sparse import entmax15 as entmax15
from jaxact._sparse import sparsemax as sparsemax
from jaxact._srs import srs as srs
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
    "acon_c",
    "aliases",
    "apl",
    "aptx",
    "bent_identity",
    "bilinear",
    "canonical",
    "celu",
    "crelu",
    "e_swish",
    "elish",
    "elliott",
    "elu",
    "entmax",
    "entmax15",
    "entry",
    "erfact",
    "exponential",
    "gaussian",
    "gcu",
    "geglu",
    "gelu",
    "get",
    "glu",
    "gumbel_softmax",
    "hard_elish",
    "hard_mish",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "identity",
    "isrlu",
    "isru",
    "leaky_relu",
    "lisht",
    "log1mexp",
    "log_sigmoid",
    "log_softmax",
    "logish",
    "logmeanexp",
    "logsumexp",
    "mish",
    "names",
    "pelu",
    "prelu",
    "pserf",
    "quick_gelu",
    "rational",
    "register",
    "reglu",
    "relu",
    "relu6",
    "relu_general",
    "rrelu",
    "selu",
    "serf",
    "shifted_softplus",
    "sigmoid",
    "silu",
    "sinc",
    "sine",
    "smish",
    "snake",
    "soft_exponential",
    "soft_shrink",
    "soft_sign",
    "softmax",
    "softmin",
    "softplus",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squared_relu",
    "squareplus",
    "srelu",
    "srs",
    "star_relu",
    "swiglu",
    "swish",
    "tanh",
    "tanh_shrink",
    "tanhexp",
    "threshold",
    "unregister",
]
