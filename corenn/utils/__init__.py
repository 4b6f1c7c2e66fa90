"""NumPy utilities: stable math, shape helpers, seeding, data handling and metrics."""

from .data_utils import MinMaxScaler, StandardScaler, batch_iterator, train_val_test_split
from .math_utils import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax, softplus
from .metrics import (
    accuracy,
    confusion_matrix,
    f1_score,
    jaccard_score,
    mae,
    mse,
    precision_recall_f1,
    precision_score,
    predict_classes,
    r2_score,
    recall_score,
)
from .seeding import derive_seeds, make_rng, set_seed
from .tensor_utils import assert_shape, broadcast_shapes, one_hot

__all__ = [
    "logsumexp", "softmax", "log_softmax", "sigmoid", "log_sigmoid", "softplus",
    "assert_shape", "broadcast_shapes", "one_hot",
    "set_seed", "derive_seeds", "make_rng",
    "batch_iterator", "train_val_test_split", "StandardScaler", "MinMaxScaler",
    "accuracy", "confusion_matrix", "precision_recall_f1", "precision_score", "predict_classes", "recall_score",
    "f1_score", "jaccard_score", "mse", "mae", "r2_score",
]
