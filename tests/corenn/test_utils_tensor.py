import numpy as np
import pytest

from corenn.utils.tensor_utils import assert_shape, broadcast_shapes, one_hot


def test_assert_shape_accepts_matches_and_wildcards():
    x = np.zeros((8, 3, 4))
    assert_shape(x, (8, 3, 4))
    assert_shape(x, (None, 3, None), name="x")
    assert_shape(np.float32(1.0), ())


def test_assert_shape_messages():
    x = np.zeros((8, 3))
    with pytest.raises(ValueError, match=r"obs: expected shape \(\*, 4\), got \(8, 3\): dim 1 is 3 \(expected 4\)"):
        assert_shape(x, (None, 4), name="obs")
    with pytest.raises(ValueError, match=r"obs: expected 3 dimensions .* got 2 dimensions with shape \(8, 3\)"):
        assert_shape(x, (8, 3, 1), name="obs")


@pytest.mark.parametrize("shapes", [[(3, 1), (1, 4)], [(2, 3, 4), (4,)], [(), (5,)], [(1,), (7, 1, 1)],
                                    [(5, 1, 4), (1, 3, 1), (3, 4)]])
def test_broadcast_shapes_matches_numpy(shapes):
    assert broadcast_shapes(*shapes) == np.broadcast_shapes(*shapes)


def test_broadcast_shapes_error_names_shapes():
    with pytest.raises(ValueError,
                       match=r"shapes \(2, 3\), \(4,\) cannot be broadcast.*dimension -1 has sizes \[3, 4\]"):
        broadcast_shapes((2, 3), (4,))


def test_one_hot():
    out = one_hot(np.array([0, 2, 1]), 3)
    np.testing.assert_array_equal(out, np.eye(3)[[0, 2, 1]])
    assert out.dtype == np.float32
    out2 = one_hot(np.array([[1, 0], [3, 3]]), 4, dtype=np.int64)
    assert out2.shape == (2, 2, 4) and out2.dtype == np.int64
    np.testing.assert_array_equal(out2.argmax(-1), [[1, 0], [3, 3]])
    assert one_hot(np.array([], dtype=np.int64), 5).shape == (0, 5)


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 2\], got min 0 and max 3"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="min -1"):
        one_hot(np.array([-1]), 3)
    with pytest.raises(TypeError, match="must be integers, got dtype float64"):
        one_hot(np.array([0.0, 1.0]), 3)
    with pytest.raises(ValueError, match="positive integer"):
        one_hot(np.array([0]), 0)
