"""SB3's module layout under `rl`: every public name of the SB3 modules below is importable from its `rl` twin
(`stable_baselines3.X` -> `rl.X`) or listed, with a reason, in docs/sb3_compatibility.md's "Left out" table.
SB3's source is read (not imported module by module: some need pandas or matplotlib) to list its names."""
import ast
import importlib
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "sb3_compatibility.md")
MODULES = [
    "common.callbacks", "common.evaluation", "common.noise", "common.monitor", "common.utils", "common.env_checker",
    "common.results_plotter", "common.logger", "common.policies", "common.torch_layers", "common.preprocessing",
    "common.distributions", "common.buffers", "common.type_aliases", "common.base_class",
    "common.on_policy_algorithm", "common.off_policy_algorithm", "common.envs", "common.vec_env", "common.env_util",
    "ppo", "ppo.policies", "a2c", "a2c.policies", "dqn", "dqn.policies", "sac", "sac.policies", "td3",
    "td3.policies", "ddpg", "ddpg.policies", "her", "her.her_replay_buffer", "her.goal_selection_strategy",
]


def sb3_public_names(root: str, module: str) -> list:
    """`__all__` when the module defines it, else its top-level public classes, functions and class aliases."""
    path = os.path.join(root, *module.split(".")) + ".py"
    if not os.path.exists(path):
        path = os.path.join(root, *module.split("."), "__init__.py")
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return sorted(ast.literal_eval(node.value))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):  # MlpPolicy = ActorCriticPolicy
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return sorted(n for n in names if not n.startswith("_"))


def left_out_table() -> dict:
    """{(module, name): reason} from the table between the left-out markers of the docs page."""
    text = open(DOC, encoding="utf-8").read()
    block = text.split("<!-- left-out:start -->")[1].split("<!-- left-out:end -->")[0]
    rows = {}
    for line in block.splitlines():
        m = re.match(r"\|\s*`([\w.]+)`\s*\|\s*`(\w+)`\s*\|\s*(.+?)\s*\|\s*$", line)
        if m:
            assert (m[1], m[2]) not in rows, f"{m[1]}.{m[2]} is listed twice"
            rows[(m[1], m[2])] = m[3]
    return rows


@pytest.fixture(scope="module")
def sb3_root():
    sb3 = pytest.importorskip("stable_baselines3")
    return os.path.dirname(sb3.__file__)


def test_left_out_table_is_well_formed():
    rows = left_out_table()
    assert len(rows) >= 10
    for (module, name), reason in rows.items():
        assert module in MODULES, f"{module} is not a module this test walks"
        assert len(reason) > 5, f"{module}.{name} needs a reason"


@pytest.mark.parametrize("module", MODULES)
def test_every_sb3_name_is_in_rl_or_left_out_with_a_reason(module, sb3_root):
    ours = importlib.import_module(f"rl.{module}")
    left_out = {name for (mod, name) in left_out_table() if mod == module}
    names = sb3_public_names(sb3_root, module)
    missing = [n for n in names if not hasattr(ours, n) and n not in left_out]
    assert not missing, f"rl.{module} lacks {missing}: re-export them or list them in docs/sb3_compatibility.md"
    stale = sorted(n for n in left_out if n not in names or hasattr(ours, n))
    assert not stale, f"the left-out table lists {stale} for {module}, but SB3 lacks them or rl has them"


@pytest.mark.parametrize("module", MODULES)
def test_rl_twins_re_export_what_they_declare(module):
    ours = importlib.import_module(f"rl.{module}")
    for name in getattr(ours, "__all__", []):
        assert hasattr(ours, name), f"rl.{module}.__all__ names {name}, which it does not define"


def test_a_ported_script_runs_with_only_the_package_renamed(tmp_path):
    """The README example of SB3's docs, with `stable_baselines3` renamed."""
    from rl.common.callbacks import CheckpointCallback
    from rl.common.env_util import make_vec_env
    from rl.common.evaluation import evaluate_policy
    from rl.common.utils import set_random_seed
    from rl.ppo import PPO

    set_random_seed(0)
    vec_env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = PPO("MlpPolicy", vec_env, n_steps=16, batch_size=32, n_epochs=1, verbose=0, seed=0)
    model.learn(total_timesteps=64, callback=CheckpointCallback(save_freq=16, save_path=str(tmp_path)))
    model.save(tmp_path / "ppo_cartpole")
    del model
    model = PPO.load(tmp_path / "ppo_cartpole")
    mean_reward, std_reward = evaluate_policy(model, model.get_env() or vec_env, n_eval_episodes=2)
    assert mean_reward > 0 and std_reward >= 0
    assert any(name.endswith(".npz") and name.startswith("rl_model") for name in os.listdir(tmp_path))
