"""Checkpoints of image agents: the features extractor is recorded by its registered name and its kwargs are
checked like every other field; nothing in a file names a Python path that would be imported."""
import numpy as np
import pytest

import envs  # noqa: F401  (corenn/PixelSide-v0)
from rl import DQN, PPO
from rl.core.checkpoint import CheckpointError
from tests.rl.test_checkpoint_schema import resign, set_path

SMALL = dict(features_extractor_kwargs=dict(features_dim=8), net_arch=[8])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cnn")
    ppo = PPO("CnnPolicy", "corenn/PixelSide-v0", n_steps=16, batch_size=16, n_epochs=1, seed=0, policy_kwargs=SMALL)
    dqn = DQN("CnnPolicy", "corenn/PixelSide-v0", learning_starts=10, batch_size=8, buffer_size=50, seed=0,
              policy_kwargs=SMALL)
    return {"PPO": ppo.learn(16).save(root / "ppo"),
            "DQN": dqn.learn(20).save(root / "dqn", include_replay_buffer=True)}


def test_the_file_names_the_extractor_and_its_settings(files):
    model = PPO.load(files["PPO"])
    kwargs = model.policy.config()
    assert kwargs["features_extractor_class"] == "NatureCNN"
    assert kwargs["features_extractor_kwargs"] == {"features_dim": 8}
    assert kwargs["normalize_images"] is True and kwargs["share_features_extractor"] is True
    dqn = DQN.load(files["DQN"])
    assert dqn.replay_buffer.observations.dtype == np.uint8 and dqn.replay_buffer.size() == 20


CASES = [
    ("PPO", ("policy_kwargs", "features_extractor_class"), "os.system", "policy_kwargs.features_extractor_class"),
    ("PPO", ("policy_kwargs", "features_extractor_class"), "NotAnExtractor", "registered extractors are"),
    ("PPO", ("policy_kwargs", "features_extractor_class"), 5, "policy_kwargs.features_extractor_class"),
    ("PPO", ("policy_kwargs", "features_extractor_kwargs"), {"evil": 1},
     "policy_kwargs.features_extractor_kwargs.evil"),
    ("PPO", ("policy_kwargs", "features_extractor_kwargs"), {"features_dim": 10**9},
     "policy_kwargs.features_extractor_kwargs.features_dim"),
    ("PPO", ("policy_kwargs", "features_extractor_kwargs"), {"features_dim": {"a": 1}},
     "policy_kwargs.features_extractor_kwargs.features_dim"),
    ("PPO", ("policy_kwargs", "features_extractor_kwargs"), "dict()", "policy_kwargs.features_extractor_kwargs"),
    ("PPO", ("policy_kwargs", "normalize_images"), "yes", "policy_kwargs.normalize_images"),
    ("PPO", ("policy_kwargs", "features_extractor_kwargs"), {"features_dim": 9}, "features_extractor.linear.0"),
    ("PPO", ("policy_kwargs", "features_extractor_class"), "FlattenExtractor",
     "policy_kwargs.features_extractor_kwargs.features_dim: is not a known field"),  # FlattenExtractor takes none
    ("PPO", ("policy_kwargs",), dict(net_arch=[8], features_extractor_class="FlattenExtractor"),
     "does not fit this agent"),  # an MLP on the pixels: other tensors than the file's
    ("DQN", ("policy_kwargs", "features_extractor_kwargs"), {"features_dim": 0}, "features_dim"),
    ("DQN", ("normalize",), True, "norm_obs=False"),
]


@pytest.mark.parametrize("algo, path, value, expected", CASES, ids=lambda v: None)
def test_tampered_extractor_settings_are_named(files, tmp_path, algo, path, value, expected):
    bad = resign(files[algo], tmp_path / "bad.npz", meta_fn=lambda meta: set_path(meta, path, value))
    cls = {"PPO": PPO, "DQN": DQN}[algo]
    with pytest.raises(CheckpointError) as info:
        cls.load(bad)
    assert expected in str(info.value)


def test_replay_buffer_images_must_be_declared_uint8(files, tmp_path):
    def as_float(data):
        buf = data["replay_buffer"]
        buf["observations"] = buf["observations"].astype(np.float32)

    bad = resign(files["DQN"], tmp_path / "bad.npz", data_fn=as_float)
    with pytest.raises(CheckpointError, match="replay_buffer.*observations.*uint8"):
        DQN.load(bad)
