"""Neural-network modules, initialisers and functional forms."""
from . import (  # noqa: F401
                         functional,
                         init,
                         utils,  # noqa: F401  (clip_grad_norm_, clip_grad_value_)
)
from .activation import (  # noqa: F401
                         ELU,
                         GELU,
                         Hardtanh,
                         LeakyReLU,
                         LogSigmoid,
                         LogSoftmax,
                         PReLU,
                         ReLU,
                         Sigmoid,
                         SiLU,
                         Softmax,
                         Softplus,
                         Tanh,
)
from .layers import Dropout, Embedding, Flatten, Identity, Linear  # noqa: F401
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss  # noqa: F401
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential  # noqa: F401
from .normalization import BatchNorm1d, LayerNorm  # noqa: F401
