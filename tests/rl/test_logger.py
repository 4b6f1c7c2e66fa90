import os

import numpy as np
import pytest

from rl.core.logger import Logger, ProgressBar, configure_logger, get_latest_run_id


def read_scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(folder)
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


SB3_TAGS = ["rollout/ep_rew_mean", "rollout/ep_len_mean", "time/fps", "train/loss",
            "train/policy_gradient_loss", "train/value_loss", "train/entropy_loss", "train/approx_kl",
            "train/clip_fraction", "train/explained_variance", "train/learning_rate"]


def test_tensorboard_tags_and_steps_read_back(tmp_path):
    logger = configure_logger(verbose=0, tensorboard_log=str(tmp_path), tb_log_name="PPO")
    assert logger.dir == os.path.join(str(tmp_path), "PPO_1")
    for step in (256, 512):
        for i, tag in enumerate(SB3_TAGS):
            logger.record(tag, float(i) + step)
        logger.record("time/iterations", step // 256)
        logger.dump(step)
    logger.close()
    scalars = read_scalars(logger.dir)
    for i, tag in enumerate(SB3_TAGS):
        assert [s for s, _ in scalars[tag]] == [256, 512]
        assert scalars[tag][1][1] == pytest.approx(i + 512)
    assert scalars["time/iterations"] == [(256, 1.0), (512, 2.0)]


def test_run_ids_and_resume_continue_same_dir(tmp_path):
    first = configure_logger(tensorboard_log=str(tmp_path), tb_log_name="PPO")
    first.record("rollout/ep_rew_mean", 1.0)
    first.dump(100)
    first.close()
    second = configure_logger(tensorboard_log=str(tmp_path), tb_log_name="PPO")
    assert second.dir.endswith("PPO_2")
    second.close()
    # a prefix that only looks similar is not the same run name
    os.makedirs(tmp_path / "PPO_extra_7")
    assert get_latest_run_id(str(tmp_path), "PPO") == 2
    resumed = configure_logger(tensorboard_log=str(tmp_path), tb_log_name="PPO", reset_num_timesteps=False)
    assert resumed.dir == second.dir
    resumed.record("rollout/ep_rew_mean", 2.0)
    resumed.dump(200)
    resumed.close()
    assert read_scalars(resumed.dir)["rollout/ep_rew_mean"] == [(200, 2.0)]
    # continuing the first run appends its curve in the same folder
    cont = Logger(first.dir, ["tensorboard"])
    cont.record("rollout/ep_rew_mean", 3.0)
    cont.dump(300)
    cont.close()
    assert read_scalars(first.dir)["rollout/ep_rew_mean"] == [(100, 1.0), (300, 3.0)]


def test_resume_without_previous_run_starts_run_1(tmp_path):
    logger = configure_logger(tensorboard_log=str(tmp_path), tb_log_name="A2C", reset_num_timesteps=False)
    assert logger.dir.endswith("A2C_1")
    logger.close()


def test_record_mean_exclude_and_stdout_table(tmp_path, capsys):
    logger = configure_logger(verbose=1, tensorboard_log=str(tmp_path), tb_log_name="X")
    for v in (1.0, 2.0, 6.0):
        logger.record_mean("train/loss", v)
    logger.record("time/total_timesteps", 1000, exclude="tensorboard")
    logger.record("rollout/ep_rew_mean", np.float32(21.5))
    logger.record("train/note", "text is shown, not written to TensorBoard")
    logger.record("train/hidden", 5.0, exclude=("stdout",))
    logger.dump(1000)
    logger.close()
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("---") and lines[-1].startswith("---")
    assert len({len(line) for line in lines}) == 1  # a rectangular box
    assert "| rollout/" in out and "ep_rew_mean" in out and "21.5" in out
    assert "loss" in out and "3 " in out  # mean of 1, 2, 6
    assert "total_timesteps" in out and "hidden" not in out
    scalars = read_scalars(logger.dir)
    assert scalars["train/loss"] == [(1000, 3.0)]
    assert "time/total_timesteps" not in scalars and "train/note" not in scalars
    assert scalars["train/hidden"] == [(1000, 5.0)]


def test_dump_clears_and_no_output_when_quiet(capsys):
    logger = configure_logger(verbose=0)
    assert logger.dir is None
    logger.record("a/b", 1.0)
    logger.dump(1)
    assert logger.name_to_value == {}
    assert capsys.readouterr().out == ""


def test_bad_output_format():
    with pytest.raises(ValueError, match="unknown output format"):
        Logger(None, ["xml"])
    with pytest.raises(ValueError, match="needs a folder"):
        Logger(None, ["csv"])
    with pytest.raises(ValueError, match="needs a folder"):
        Logger(None, ["tensorboard"])


def test_no_torch_imported():
    import subprocess
    import sys

    code = ("import sys, rl.core.logger, rl.core.callbacks, rl.core.replay_buffer, rl.core.noise, rl.cli; "
            "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules")
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)


def test_progress_bar_runs():
    bar = ProgressBar(total=10)
    bar.update(4)
    bar.update(6)
    assert bar.bar.n == 10
    bar.close()


def test_many_resumes_in_one_second_keep_file_order(tmp_path):
    """TensorBoard reads a run's event files in name order: each resume must sort last."""
    folder = str(tmp_path / "PPO_1")
    for i in range(12):
        logger = Logger(folder, ["tensorboard"])
        logger.record("time/iterations", i)
        logger.dump(i)
        logger.close()
    assert len(os.listdir(folder)) == 12
    assert read_scalars(folder)["time/iterations"] == [(i, float(i)) for i in range(12)]
