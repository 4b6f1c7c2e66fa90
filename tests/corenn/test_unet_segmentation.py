"""Synthetic shapes for segmentation, IoU (jaccard_score), and a tiny U-Net that learns them."""
import numpy as np
import pytest

import corenn as cn
import corenn.nn.functional as F
from corenn.datasets import SHAPE_CLASSES, make_shapes
from corenn.models import UNet
from corenn.utils import jaccard_score


def test_make_shapes_arrays_and_classes():
    x, y = make_shapes(200, 24, rng=0)
    assert x.shape == (200, 1, 24, 24) and x.dtype == np.float32
    assert y.shape == (200, 24, 24) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(len(SHAPE_CLASSES)))
    assert np.all((y > 0).any(axis=(1, 2)))  # every image has at least one shape
    # shapes are brighter than the noisy background
    assert x[:, 0][y > 0].mean() > 0.6 and abs(x[:, 0][y == 0].mean()) < 0.05
    _, binary = make_shapes(50, 24, per_class=False, rng=0)
    assert set(np.unique(binary)) == {0, 1}


def test_make_shapes_is_seeded():
    a, b = make_shapes(20, 16, radius=(2.0, 5.0), rng=3), make_shapes(20, 16, radius=(2.0, 5.0), rng=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], make_shapes(20, 16, radius=(2.0, 5.0), rng=4)[1])


def test_make_shapes_keeps_shapes_apart_unless_overlap():
    def touching(mask):  # two different shape classes in 4-neighbouring pixels
        fg = mask > 0
        h = fg[:, :, 1:] & fg[:, :, :-1] & (mask[:, :, 1:] != mask[:, :, :-1])
        v = fg[:, 1:] & fg[:, :-1] & (mask[:, 1:] != mask[:, :-1])
        return (h.any(axis=(1, 2)) | v.any(axis=(1, 2))).sum()
    _, apart = make_shapes(300, 32, max_shapes=3, rng=0)
    _, overlapping = make_shapes(300, 32, max_shapes=3, overlap=True, rng=0)
    assert touching(apart) == 0
    assert touching(overlapping) > 10


@pytest.mark.parametrize("kwargs,match", [({"n": 0}, "n must be"), ({"size": 4}, "size must be"),
                                          ({"radius": (5.0, 20.0)}, "radius"), ({"noise": -1.0}, "noise")])
def test_make_shapes_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_shapes(**{"n": 4, "size": 32, **kwargs})


def test_jaccard_score_by_hand():
    t = np.array([[0, 0, 1], [1, 2, 2]])
    p = np.array([[0, 1, 1], [1, 2, 0]])
    # class 0: 1 shared of 3 in the union; class 1: 2 of 3; class 2: 1 of 2
    np.testing.assert_allclose(jaccard_score(t, p, average=None), [1 / 3, 2 / 3, 1 / 2])
    assert jaccard_score(t, p) == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    assert jaccard_score(t, p, average="micro") == pytest.approx(4 / 8)
    assert jaccard_score(t, p, average="weighted") == pytest.approx((2 / 3 + 2 * 2 / 3 + 2 / 2) / 6)
    assert jaccard_score(t, t) == 1.0
    np.testing.assert_allclose(jaccard_score(t, p, average=None, num_classes=4), [1 / 3, 2 / 3, 1 / 2, 0.0])
    with pytest.raises(ValueError, match="shape"):
        jaccard_score(t, p[:, :2])


def test_tiny_unet_learns_tiny_shapes():
    """4 classes on 16x16 images: a width-8, depth-2 U-Net, 200 Adam steps of 32 images (~6 s)."""
    cn.manual_seed(0)
    kw = {"max_shapes": 2, "radius": (3.0, 6.0)}
    x, y = make_shapes(512, 16, rng=0, **kw)
    x_test, y_test = make_shapes(128, 16, rng=1, **kw)
    model = UNet(1, len(SHAPE_CLASSES), base_channels=8, depth=2)
    opt = cn.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    model.eval()
    with cn.no_grad():
        before = jaccard_score(y_test, model(cn.Tensor(x_test)).data.argmax(1), num_classes=4)
    model.train()
    for _ in range(200):
        idx = rng.integers(0, len(x), 32)
        loss = F.cross_entropy(model(cn.Tensor(x[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with cn.no_grad():
        after = jaccard_score(y_test, model(cn.Tensor(x_test)).data.argmax(1), num_classes=4)
    assert before < 0.4 and after > 0.65, (before, after)
