import pytest

import corenn as cn


def test_set_num_threads_roundtrip():
    before = cn.get_num_threads()
    cn.set_num_threads(1)
    assert cn.get_num_threads() == 1
    cn.set_num_threads(before)
    assert cn.get_num_threads() == before
    with pytest.raises(ValueError):
        cn.set_num_threads(0)
