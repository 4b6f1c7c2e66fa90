"""Multi-layer perceptron."""
from .. import nn


class MLP(nn.Module):
    """in_features -> hidden_sizes... -> out_features; x (N, in) -> (N, out).

    ``activation`` is a Module class (``nn.ReLU``) or its name (``"relu"``, ``"tanh"``, ...).
    ``output_activation`` (optional) is applied to the output.
    """

    _NAMES = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
              "silu": nn.SiLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "identity": nn.Identity}

    def __init__(self, in_features, hidden_sizes, out_features, activation=nn.ReLU,
                 output_activation=None, dropout=0.0, layer_norm=False):
        super().__init__()
        act = self._resolve(activation)
        layers, width = [], in_features
        for h in hidden_sizes:
            layers.append(nn.Linear(width, h))
            if layer_norm:
                layers.append(nn.LayerNorm(h))
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        if output_activation is not None:
            layers.append(self._resolve(output_activation)())
        self.net = nn.Sequential(*layers)

    @classmethod
    def _resolve(cls, activation):
        if isinstance(activation, str):
            if activation.lower() not in cls._NAMES:
                raise ValueError(f"unknown activation {activation!r}; choose from {sorted(cls._NAMES)}")
            return cls._NAMES[activation.lower()]
        return activation

    def forward(self, x):
        return self.net(x)
