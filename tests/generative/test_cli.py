"""python -m generative: train / resume / sample / classifier / eval on tiny synthetic IDX data, and its errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from generative import cli
from generative.metrics import feature_classifier
from generative.registry import MODELS, ModelNotAvailableError, UnknownModelError, get_model_class
from tests.generative.test_trainer import TinyModel, write_fake_idx


class InterpolatingModel(TinyModel):
    def interpolation_grid(self, rows, steps, rng):
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)
        return np.broadcast_to(t[None, :, None, None, None], (rows, steps, *self.image_shape)).reshape(
            rows * steps, *self.image_shape).copy()


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setitem(MODELS, "tiny", "tests.generative.test_cli:InterpolatingModel")
    monkeypatch.setitem(MODELS, "plain", "tests.generative.test_trainer:TinyModel")
    monkeypatch.chdir(tmp_path)
    return {"data": write_fake_idx(tmp_path / "data", n_train=48, n_test=24), "tmp": tmp_path}


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


TRAIN = ("--epochs", 2, "--batch-size", 8, "--log-every", 2, "--save-every", 4, "--sample-every", 5,
         "--num-samples", 9, "--no-progress")


def test_train_resume_sample(env, capsys):
    out = env["tmp"] / "run"
    code, stdout, err = run(capsys, "train", "tiny", "--data", env["data"], "--out", out, "--max-steps", 5, *TRAIN,
                            "--hparams", "dict(hidden=4, lr=0.02)")
    assert code == 0, err
    assert "trained to step 5 (means to step 4: loss" in stdout and os.path.isfile(out / "checkpoint.npz")
    code, _, err = run(capsys, "train", "tiny", "--data", env["data"], "--out", out, *TRAIN)
    assert code == 2 and "pass --resume" in err
    code, _, err = run(capsys, "train", "tiny", "--out", out, "--resume", "--seed", 9, "--no-progress")
    assert code == 2 and "seed=0" in err
    # settings (data, hparams, batch size) come from the checkpoint
    code, stdout, err = run(capsys, "train", "tiny", "--out", out, "--resume", "--no-progress")
    assert code == 0, err
    assert "trained to step 12" in stdout
    saved = np.load(out / "checkpoint.npz")  # a plain zip: no pickle needed to open it
    assert "__corenn__" in saved.files

    code, stdout, err = run(capsys, "sample", out, "--n", 6, "--out", env["tmp"] / "g.png", "--seed", 1)
    assert code == 0 and os.path.isfile(env["tmp"] / "g.png"), err
    code, _, err = run(capsys, "sample", out, "--interpolate", "--rows", 2, "--steps", 3, "--out",
                       env["tmp"] / "i.png", "--scale", 1, "--nrow", 3)
    assert code == 0, err
    from PIL import Image

    with Image.open(env["tmp"] / "i.png") as im:
        assert im.size == (3 * 10 + 2, 2 * 10 + 2)
    code, _, err = run(capsys, "sample", out, "--labels", "1,2")
    assert code == 2 and "unconditional" in err
    code, _, err = run(capsys, "sample", out, "--options", "dict(temperature=0.5)")
    assert code == 2 and "does not take ['temperature']" in err


def test_sample_labels_and_interpolate_errors(env, capsys):
    out = env["tmp"] / "cond"
    code, _, err = run(capsys, "train", "plain", "--data", env["data"], "--out", out, "--max-steps", 2, *TRAIN,
                       "--hparams", "dict(conditional=True)")
    assert code == 0, err
    for labels in ("all", "3", "0,1,2"):
        code, _, err = run(capsys, "sample", out, "--n", 12, "--labels", labels, "--out", env["tmp"] / "c.png")
        assert code == 0, err
    code, _, err = run(capsys, "sample", out, "--labels", "4,12")
    assert code == 2 and "[12] outside the classes 0..9" in err
    code, _, err = run(capsys, "sample", out, "--labels", "cats")
    assert code == 2 and "'all' or class numbers" in err
    code, _, err = run(capsys, "sample", out, "--interpolate")
    assert code == 2 and "has no interpolation_grid" in err
    labels, nrow = cli.parse_labels("all", TinyModel((1, 8, 8), 10, conditional=True), 20)
    assert nrow == 10 and labels.tolist() == list(range(10)) * 2


def test_classifier_and_eval(env, capsys, monkeypatch):
    clf = env["tmp"] / "clf.npz"
    monkeypatch.setattr(feature_classifier, "DEFAULT_CLASSIFIER_PATH", str(env["tmp"] / "absent.npz"))
    code, stdout, err = run(capsys, "classifier", "--data", env["data"], "--out", clf, "--epochs", 1, "--batch-size",
                            16, "--no-progress")
    assert code == 0 and "test accuracy" in stdout and os.path.isfile(clf), err
    out = env["tmp"] / "run"
    assert run(capsys, "train", "tiny", "--data", env["data"], "--out", out, "--max-steps", 3, *TRAIN)[0] == 0
    code, _, err = run(capsys, "eval", out, "--n", 20, "--kid-subsets", 2, "--no-progress")
    assert code == 2 and "python -m generative classifier --data" in err and "absent.npz" in err
    code, stdout, err = run(capsys, "eval", out, "--n", 20, "--classifier", clf, "--kid-subsets", 2,
                            "--json", env["tmp"] / "eval.json", "--no-progress")
    assert code == 0, err
    assert "FID (corenn classifier), n=20" in stdout and "floor (real data)" in stdout
    rows = json.load(open(env["tmp"] / "eval.json"))["rows"]
    assert rows["FID (corenn classifier), n=20"][0] > 0
    other = write_fake_idx(env["tmp"] / "other", seed=5)
    code, _, err = run(capsys, "eval", out, "--data", other, "--classifier", clf, "--no-progress")
    assert code == 2 and "trained on other data" in err


@pytest.mark.parametrize("hparams, message", [
    ("dict(lr=", "cannot parse"),
    ("dict(act=ReLU)", "'ReLU' is not a literal"),
    ("__import__('os').system('true')", "unsupported expression"),
    ("[1, 2]", "must be a dict"),
    ("dict(depth=3)", "has no hyperparameters ['depth']"),
])
def test_bad_hparams(env, capsys, hparams, message):
    code, _, err = run(capsys, "train", "tiny", "--data", env["data"], "--out", env["tmp"] / "h", "--hparams", hparams)
    assert code == 2 and message in err
    assert not os.path.exists(env["tmp"] / "h")


def test_unknown_model_missing_module_and_data(env, capsys, monkeypatch):
    code, _, err = run(capsys, "train", "nosuch", "--data", env["data"])
    assert code == 2 and "unknown model 'nosuch'" in err and "vae" in err
    monkeypatch.setitem(MODELS, "later", "generative.not_written_yet:Later")
    code, _, err = run(capsys, "train", "later", "--data", env["data"])
    assert code == 2 and "generative.not_written_yet is not present" in err
    with pytest.raises(ModelNotAvailableError, match="has no class Nope"):
        monkeypatch.setitem(MODELS, "nope", "generative.registry:Nope")
        get_model_class("nope")
    with pytest.raises(UnknownModelError):
        get_model_class("nosuch")
    code, _, err = run(capsys, "train", "tiny", "--data", env["tmp"] / "missing", "--out", env["tmp"] / "m")
    assert code == 2 and "missing does not exist" in err and "fashion-mnist" in err
    assert not os.path.exists(env["tmp"] / "m")
    code, _, err = run(capsys, "train", "tiny", "--out", env["tmp"] / "m")
    assert code == 2 and "--data is required" in err
    code, _, err = run(capsys, "sample", env["tmp"] / "nothing.npz")
    assert code == 2 and "not found" in err


def test_nonfinite_loss_exit_status(env, capsys):
    code, _, err = run(capsys, "train", "tiny", "--data", env["data"], "--out", env["tmp"] / "nan", *TRAIN,
                       "--hparams", "dict(nan_at_step=5)")
    assert code == 1 and "non-finite loss loss=nan at step 5" in err and "saved: step 4" in err


def test_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "generative", "--help"], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            timeout=60)
    assert result.returncode == 0 and "train" in result.stdout and "eval" in result.stdout
