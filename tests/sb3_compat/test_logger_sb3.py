"""SB3's logger API (only the package renamed): configure(), output_formats, record(..., exclude=...),
model.set_logger, and Image / Figure / Video / HParam values read back from the TensorBoard event file."""

import csv
import io
import json
import os

import numpy as np
import pytest
from PIL import Image as PILImage

from rl import PPO
from rl.common.callbacks import BaseCallback
from rl.common.logger import (
    CSVOutputFormat,
    Figure,
    FormatUnsupportedError,
    HParam,
    HumanOutputFormat,
    Image,
    JSONOutputFormat,
    Logger,
    TensorBoardOutputFormat,
    Video,
    configure,
    make_output_format,
)

NOT_TEXT = ("stdout", "log", "json", "csv")


def accumulator(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(folder, size_guidance={"images": 0, "tensors": 0, "histograms": 0, "scalars": 0})
    acc.Reload()
    return acc


def decode(image_event):
    return np.asarray(PILImage.open(io.BytesIO(image_event.encoded_image_string)))


def test_configure_formats_and_files(tmp_path, capsys):
    folder = str(tmp_path / "sb3_log")
    logger = configure(folder, ["stdout", "csv", "json", "log", "tensorboard"])
    assert logger.get_dir() == folder
    kinds = [type(f) for f in logger.output_formats]
    assert kinds == [HumanOutputFormat, CSVOutputFormat, JSONOutputFormat, HumanOutputFormat, TensorBoardOutputFormat]
    logger.record("train/loss", 0.5)
    logger.record("time/total_timesteps", 64, exclude="tensorboard")
    logger.record("train/only_tb", 3.0, exclude=("stdout", "log", "csv", "json"))
    logger.dump(step=64)
    logger.record("train/loss", 0.25)
    logger.record("rollout/ep_rew_mean", 12.0)  # a new key: the CSV gains a column
    logger.dump(step=128)
    logger.close()

    out = capsys.readouterr().out
    assert "Logging to" in out and "loss" in out and "only_tb" not in out
    with open(os.path.join(folder, "progress.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["train/loss"] == "0.5" and rows[0]["time/total_timesteps"] == "64"
    assert rows[0]["rollout/ep_rew_mean"] == "" and rows[1]["rollout/ep_rew_mean"] == "12.0"
    assert "train/only_tb" not in rows[0]
    with open(os.path.join(folder, "progress.json")) as fh:
        records = [json.loads(line) for line in fh]
    assert records == [{"train/loss": 0.5, "time/total_timesteps": 64},
                       {"train/loss": 0.25, "rollout/ep_rew_mean": 12.0}]
    assert "loss" in open(os.path.join(folder, "log.txt")).read()
    scalars = accumulator(folder).Scalars
    assert [(e.step, e.value) for e in scalars("train/loss")] == [(64, 0.5), (128, 0.25)]
    assert [e.value for e in scalars("train/only_tb")] == [3.0]
    with pytest.raises(KeyError):
        scalars("time/total_timesteps")


def test_configure_defaults_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SB3_LOGDIR", str(tmp_path / "env_dir"))
    monkeypatch.setenv("SB3_LOG_FORMAT", "csv,json")
    logger = configure()
    assert logger.get_dir() == str(tmp_path / "env_dir")
    assert [type(f) for f in logger.output_formats] == [CSVOutputFormat, JSONOutputFormat]
    logger.close()
    monkeypatch.delenv("SB3_LOGDIR")
    monkeypatch.delenv("SB3_LOG_FORMAT")
    default = configure()
    assert os.path.basename(default.get_dir()).startswith("SB3-")
    assert [type(f) for f in default.output_formats] == [HumanOutputFormat, HumanOutputFormat, CSVOutputFormat]
    default.close()
    with pytest.raises(ValueError, match="unknown output format"):
        make_output_format("xml", str(tmp_path))


def test_media_in_the_tensorboard_event_file(tmp_path):
    logger = configure(str(tmp_path), ["tensorboard"])
    hwc = np.random.default_rng(0).integers(0, 256, size=(8, 6, 3), dtype=np.uint8)
    logger.record("media/hwc", Image(hwc, "HWC"), exclude=NOT_TEXT)
    chw = np.linspace(0.0, 1.0, 2 * 5 * 4).reshape(1, 2, 5, 4)[0, :1]  # (1, 5, 4) grey float in [0, 1]
    logger.record("media/chw", Image(chw, "CHW"), exclude=NOT_TEXT)
    frames = np.zeros((1, 4, 3, 6, 5), np.uint8)  # (N, T, C, H, W)
    for t in range(4):
        frames[0, t, 0] = 60 * t
    logger.record("media/video", Video(frames, fps=10), exclude=NOT_TEXT)
    logger.record("note", "a text value")
    logger.record("weights", np.arange(10.0))
    logger.dump(step=7)
    logger.close()

    acc = accumulator(str(tmp_path))
    assert set(acc.Tags()["images"]) == {"media/hwc", "media/chw", "media/video"}
    hwc_event = acc.Images("media/hwc")[0]
    assert hwc_event.step == 7 and (hwc_event.height, hwc_event.width) == (8, 6)
    np.testing.assert_array_equal(decode(hwc_event), hwc)  # PNG is lossless
    grey = decode(acc.Images("media/chw")[0])
    np.testing.assert_array_equal(grey, (np.clip(chw[0], 0, 1) * 255 + 0.5).astype(np.uint8))
    gif = PILImage.open(io.BytesIO(acc.Images("media/video")[0].encoded_image_string))
    assert gif.format == "GIF" and gif.n_frames == 4 and gif.size == (5, 6)
    assert "note/text_summary" in acc.Tags()["tensors"]
    histogram = acc.Histograms("weights")[0].histogram_value
    assert histogram.num == 10 and histogram.min == 0.0 and histogram.max == 9.0 and sum(histogram.bucket) == 10


def test_figure_is_rendered_and_closed(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(2, 1), dpi=50)
    figure.add_subplot().plot(np.random.default_rng(0).random(4))
    logger = configure(str(tmp_path), ["tensorboard"])
    logger.record("trajectory/figure", Figure(figure, close=True), exclude=NOT_TEXT)
    logger.dump(step=3)
    logger.close()
    assert not plt.fignum_exists(figure.number)
    event = accumulator(str(tmp_path)).Images("trajectory/figure")[0]
    assert (event.width, event.height) == (100, 50) and decode(event).shape == (50, 100, 3)


def test_hparams_written_as_sb3_guide_shows(tmp_path):
    """SB3's guide 'Logging Hyperparameters': an HParam recorded in _on_training_start."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    class HParamCallback(BaseCallback):
        def _on_training_start(self) -> None:
            hparam_dict = {"algorithm": self.model.__class__.__name__, "learning rate": 3e-4,
                           "gamma": self.model.gamma, "normalize": False}
            metric_dict = {"rollout/ep_len_mean": 0, "train/value_loss": 0.0}
            self.logger.record("hparams", HParam(hparam_dict, metric_dict), exclude=NOT_TEXT)

        def _on_step(self) -> bool:
            return True

    model = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0,
                tensorboard_log=str(tmp_path))
    model.learn(64, callback=HParamCallback())
    acc = accumulator(str(tmp_path / "PPO_1"))
    content = acc.PluginTagToContent("hparams")
    assert set(content) == {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["algorithm"].string_value == "PPO" and hparams["gamma"].number_value == pytest.approx(0.99)
    assert hparams["normalize"].bool_value is False
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert {m.name.tag for m in experiment.metric_infos} == {"rollout/ep_len_mean", "train/value_loss"}
    assert "train/value_loss" in acc.Tags()["scalars"]
    with pytest.raises(ValueError, match="metric_dict"):
        HParam({"a": 1}, {})


@pytest.mark.parametrize("fmt", ["stdout", "csv", "json", "log"])
def test_text_formats_refuse_media_unless_excluded(tmp_path, fmt):
    logger = configure(str(tmp_path), [fmt])
    logger.record("image", Image(np.zeros((2, 2), np.uint8), "HW"))
    with pytest.raises(FormatUnsupportedError, match="exclude"):
        logger.dump(1)
    logger.record("image", Image(np.zeros((2, 2), np.uint8), "HW"), exclude=NOT_TEXT)
    logger.record("value", 1.0)
    logger.dump(2)
    logger.close()


def test_bad_media_values(tmp_path):
    logger = configure(str(tmp_path), ["tensorboard"])
    logger.record("image", Image(np.zeros((2, 2, 3)), "CHW"), exclude=NOT_TEXT)
    with pytest.raises(ValueError, match="channels"):
        logger.dump(1)
    logger.record("video", Video(np.zeros((4, 3, 2, 2)), fps=4), exclude=NOT_TEXT)
    with pytest.raises(ValueError, match=r"\(N, T, C, H, W\)"):
        logger.dump(2)
    logger.close()


def test_set_logger_is_used_by_learn(tmp_path):
    """SB3's guide: new_logger = configure(tmp_path, ["stdout", "csv", "tensorboard"]); model.set_logger(new_logger)."""
    new_logger = configure(str(tmp_path), ["csv", "tensorboard"])
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0)
    model.set_logger(new_logger)
    model.learn(96)
    assert model.logger is new_logger
    with open(tmp_path / "progress.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["time/total_timesteps"]) for r in rows] == [32, 64, 96]
    assert "train/value_loss" in rows[-1] and rows[-1]["train/value_loss"] != ""
    steps = [e.step for e in accumulator(str(tmp_path)).Scalars("train/value_loss")]
    assert steps == [64, 96]  # the first iteration dumps before any update


def test_logger_accepts_format_objects_and_levels(tmp_path, capsys):
    import sys

    logger = Logger(str(tmp_path), [HumanOutputFormat(sys.stdout)])
    logger.log("hello", 3)
    logger.debug("hidden at INFO")
    logger.set_level(40)
    logger.info("hidden at ERROR")
    out = capsys.readouterr().out
    assert "hello 3" in out and "hidden" not in out
    with pytest.raises(TypeError, match="write"):
        Logger(None, [object()])


def test_video_of_rendered_frames_from_a_callback(tmp_path):
    """SB3's guide 'Logging Videos', with corenn in place of torch for the frames tensor."""
    import gymnasium as gym

    import corenn

    class VideoRecorderCallback(BaseCallback):
        def __init__(self, eval_env, render_freq: int):
            super().__init__()
            self._eval_env, self._render_freq = eval_env, render_freq

        def _on_step(self) -> bool:
            if self.n_calls % self._render_freq == 0:
                screens = []
                obs, _ = self._eval_env.reset(seed=0)
                for _ in range(3):
                    screens.append(self._eval_env.render().transpose(2, 0, 1))
                    action, _ = self.model.predict(obs, deterministic=True)
                    obs, *_ = self._eval_env.step(action)
                frames = corenn.tensor(np.asarray([screens]))
                self.logger.record("trajectory/video", Video(frames, fps=10), exclude=NOT_TEXT)
            return True

    eval_env = gym.make("CartPole-v1", render_mode="rgb_array")
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0,
                tensorboard_log=str(tmp_path))
    model.learn(64, callback=VideoRecorderCallback(eval_env, render_freq=32))
    eval_env.close()
    events = accumulator(str(tmp_path / "PPO_1")).Images("trajectory/video")
    assert [e.step for e in events] == [32, 64]
    gif = PILImage.open(io.BytesIO(events[0].encoded_image_string))
    assert gif.size == (600, 400)
    durations = []  # identical consecutive frames are merged, their durations summed: 3 frames at 10 fps
    for i in range(gif.n_frames):
        gif.seek(i)
        durations.append(gif.info["duration"])
    assert sum(durations) == 3 * 100


def test_csv_and_json_files_match_sb3(tmp_path):
    """The same records through SB3's formats and ours give the same progress.csv and progress.json."""
    sb3_logger = pytest.importorskip("stable_baselines3.common.logger")
    dumps = [{"train/loss": 0.5, "time/total_timesteps": 64, "note": 'say "hi"'},
             {"train/loss": np.float32(0.25), "rollout/ep_rew_mean": np.float64(12.5), "count": np.int64(3)},
             {"train/loss": 1e-7, "extra/x": 2}]
    written = {}
    for name, make in (("ours", make_output_format), ("sb3", sb3_logger.make_output_format)):
        folder = str(tmp_path / name)
        formats = [make("csv", folder), make("json", folder)]
        for step, values in enumerate(dumps):
            for fmt in formats:
                fmt.write(dict(values), {k: None if name == "sb3" else () for k in values}, step)
        for fmt in formats:
            fmt.close()
        with open(os.path.join(folder, "progress.csv")) as fh:
            rows = list(csv.DictReader(fh))
        written[name] = (rows, open(os.path.join(folder, "progress.json")).read())
    # SB3 orders new CSV columns as a set difference (hash order); ours sorts them: compare the cells by column
    assert written["ours"][0] == written["sb3"][0] and len(written["ours"][0]) == 3
    assert written["ours"][1] == written["sb3"][1]
