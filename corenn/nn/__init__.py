"""Neural-network modules, initialisers and functional forms."""
from .module import Module, Parameter, Sequential, ModuleList, ModuleDict  # noqa: F401
from .layers import Linear, Identity, Flatten, Embedding, Dropout  # noqa: F401
from .activation import (ReLU, Sigmoid, LogSigmoid, Tanh, SiLU, LeakyReLU, ELU, PReLU,  # noqa: F401
                         Hardtanh, GELU, Softplus, Softmax, LogSoftmax)
from .normalization import BatchNorm1d, LayerNorm  # noqa: F401
from .losses import (MSELoss, L1Loss, HuberLoss, SmoothL1Loss, CrossEntropyLoss, NLLLoss,  # noqa: F401
                     BCELoss, BCEWithLogitsLoss)
from . import init, functional  # noqa: F401
from . import utils  # noqa: F401  (clip_grad_norm_, clip_grad_value_)
