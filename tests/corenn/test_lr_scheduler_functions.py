"""warmup_cosine_lr (per-step schedule function) and predict_classes (batched argmax in eval mode)."""
import math

import numpy as np

import corenn as cn
from corenn import nn
from corenn.optim.lr_scheduler import warmup_cosine_lr
from corenn.utils import predict_classes


def test_warmup_cosine_lr_shape():
    total, warm, peak = 100, 10, 0.5
    lrs = [warmup_cosine_lr(s, total, peak, warm, min_lr=0.01) for s in range(total + 5)]
    assert lrs[0] == peak / warm and lrs[warm - 1] == peak and lrs[warm] == peak
    assert all(a >= b for a, b in zip(lrs[warm:], lrs[warm + 1:]))  # non-increasing after the warm-up
    assert math.isclose(lrs[total], 0.01) and math.isclose(lrs[-1], 0.01)  # held at min_lr past the end
    assert math.isclose(warmup_cosine_lr(55, total, peak, warm), 0.25)  # halfway through the decay


def test_predict_classes_batches_and_restores_mode():
    cn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    x = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    model.train()
    pred = predict_classes(model, x, batch_size=3)  # dropout off in eval mode: equal to one full pass
    model.eval()
    np.testing.assert_array_equal(pred, model(cn.Tensor(x)).data.argmax(1))
    model.train()
    predict_classes(model, x)
    assert model.training
