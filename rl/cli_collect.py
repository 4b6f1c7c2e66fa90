"""`python -m rl collect`: record an offline dataset in Minari's format (rl.data).

    python -m rl collect --algo ppo --env CartPole-v1 --kind expert --episodes 10
    python -m rl collect --env Hopper-v5 --kind random --steps 1000000
    python -m rl collect --algo td3 --env Hopper-v5 --kind medium --steps 1000000 \
        --model logs/td3/Hopper-v5_1/rl_model_50000_steps.npz
    python -m rl collect --algo td3 --env Hopper-v5 --kind medium-replay \
        --replay-buffer logs/td3/Hopper-v5_1/replay_buffer.npz

The dataset is written to {datasets root}/{id}/data (root: --datasets-path, else $MINARI_DATASETS_PATH, else
~/.minari/datasets; id: --dataset-id, else corenn/{env}/{kind}-v0), with ref_min_score / ref_max_score from
rl/data/reference_scores.json when the env has them. `rl/data/collect.py` defines each kind.
"""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np

from rl.cli_checks import SEED, CLIError, check_agent_fits_env, int_arg, load_agent_file, make_env_checked

__all__ = ["add_collect_parser", "cmd_collect", "default_dataset_id"]

_DESCRIPTIONS = {
    "expert": "a fully trained agent acting deterministically",
    "medium": "a partly trained agent (D4RL: about a third of the expert's return)",
    "random": "uniform random actions",
    "medium-replay": "the replay buffer of a training run (D4RL: up to the medium agent)",
}


def default_dataset_id(env_id: str, kind: str, version: int = 0) -> str:
    """corenn/{env name without version, lower case}/{kind}-v{version}, e.g. corenn/hopper/expert-v0."""
    base = re.sub(r"-v\d+$", "", env_id)
    return f"corenn/{re.sub(r'[^-_A-Za-z0-9]', '-', base).lower()}/{kind}-v{version}"


def add_collect_parser(sub) -> None:
    """The `collect` subcommand's arguments (on the subparsers of `python -m rl`)."""
    from rl.data.collect import KINDS

    p = sub.add_parser("collect", help="record an offline dataset (Minari format) from an agent or random actions")
    p.add_argument("--env", required=True, help="environment id, e.g. Hopper-v5")
    p.add_argument("--kind", required=True, choices=KINDS, help="what the data is (rl/data/collect.py)")
    p.add_argument("--algo", default=None, help="the agent's algorithm (not needed for --kind random)")
    p.add_argument("--model", default=None, metavar="PATH", help="the agent's .npz (default: the pretrained one)")
    p.add_argument("--replay-buffer", default=None, metavar="PATH",
                   help="medium-replay: a replay buffer saved by `python -m rl train ... --save-replay-buffer`")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--episodes", type=int_arg(1), default=None, help="record N whole episodes")
    size.add_argument("--steps", type=int_arg(1), default=None, help="record N steps in all")
    p.add_argument("--action-noise", type=float, default=0.0,
                   help="Box: Gaussian noise std as a fraction of half the action range; Discrete: epsilon")
    p.add_argument("--stochastic", action="store_true", help="sample the agent's actions (default: greedy)")
    p.add_argument("--seed", type=SEED, default=0, help="episode i is reset with seed + i (default 0)")
    p.add_argument("--dataset-id", default=None, help="namespace/name-vN (default corenn/{env}/{kind}-v0)")
    p.add_argument("--datasets-path", default=None, help="datasets root (default $MINARI_DATASETS_PATH or "
                                                         "~/.minari/datasets)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset with this id")


def _load_agent(args):
    if args.algo is None:
        raise CLIError(f"--kind {args.kind} records an agent: give --algo (and --model, or use a pretrained agent)")
    if args.model:
        from rl import ALGOS

        if args.algo not in ALGOS:
            raise CLIError(f"unknown algorithm {args.algo!r}; available: {', '.join(sorted(ALGOS))}")
        return load_agent_file(lambda: ALGOS[args.algo].load(args.model), args.model), args.model
    from rl.pretrained import load_pretrained, source_title

    try:
        model, source = load_pretrained(args.algo, args.env)
    except KeyError:
        raise CLIError(f"no pretrained {args.algo} agent for {args.env} (python -m rl zoo lists them); train one "
                       "and pass --model PATH") from None
    return model, f"the {source_title(source)}"


def _episodes(args, env):
    from rl.data import agent_policy, episodes_from_replay_buffer, random_policy, run_policy

    if args.kind == "medium-replay":
        if not args.replay_buffer:
            raise CLIError("--kind medium-replay converts a replay buffer: give --replay-buffer PATH (saved by "
                           "python -m rl train ... --save-replay-buffer)")
        if args.episodes or args.steps:
            raise CLIError("--kind medium-replay takes every transition of --replay-buffer; leave out "
                           "--episodes / --steps")
        return episodes_from_replay_buffer(args.replay_buffer, env.observation_space, env.action_space), \
            f"{_DESCRIPTIONS['medium-replay']}: {args.replay_buffer}"
    if args.episodes is None and args.steps is None:
        raise CLIError(f"--kind {args.kind}: give --episodes N or --steps N")
    size = dict(n_episodes=args.episodes, n_steps=args.steps, seed=args.seed)
    if args.kind == "random":
        return run_policy(env, random_policy(env.action_space, args.seed), **size), _DESCRIPTIONS["random"]
    if args.kind == "medium" and not args.model and args.action_noise <= 0:
        raise CLIError("--kind medium needs a partly trained agent: --model rl_model_N_steps.npz (a checkpoint at "
                       "about a third of the expert's return), or the expert with --action-noise SIGMA")
    model, source = _load_agent(args)
    check_agent_fits_env(model, env.observation_space, env.action_space, args.env)
    how = f"{args.algo} from {source}" + (f", action noise {args.action_noise}" if args.action_noise > 0 else "")
    if args.stochastic:
        how += ", sampled actions"
    policy = agent_policy(model, deterministic=not args.stochastic, action_noise=args.action_noise, seed=args.seed)
    return run_policy(env, policy, **size), f"{_DESCRIPTIONS[args.kind]}: {how}"


def cmd_collect(args, algos=None) -> int:
    from rl.cli import ensure_registered
    from rl.data import DatasetError, datasets_root, reference_scores, write_dataset
    from rl.data.scores import normalized_score

    ensure_registered(args.env)
    if args.action_noise < 0:
        raise CLIError(f"--action-noise must be >= 0, got {args.action_noise}")
    dataset_id = args.dataset_id or default_dataset_id(args.env, args.kind)
    env = make_env_checked(lambda: gym.make(args.env), args.env)
    try:
        episodes, description = _episodes(args, env)
        observation_space, action_space = env.observation_space, env.action_space
    except (DatasetError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    finally:
        env.close()
    returns = np.array([e.episode_return for e in episodes])
    metadata = {"algorithm_name": args.algo or "random", "description": f"{args.kind}: {description}",
                "corenn_kind": args.kind}
    refs = reference_scores(args.env)
    if refs is not None:
        metadata.update(ref_min_score=refs[0], ref_max_score=refs[1])
    try:
        path = write_dataset(dataset_id, episodes, observation_space, action_space, env_spec=args.env,
                             metadata=metadata, root=datasets_root(args.datasets_path), overwrite=args.overwrite)
    except (FileExistsError, ValueError, OSError) as e:
        raise CLIError(str(e)) from None
    score = "" if refs is None else f", normalised score {normalized_score(returns.mean(), *refs):.1f}"
    print(f"Dataset {dataset_id}: {len(episodes)} episodes, {int(sum(len(e) for e in episodes))} steps, "
          f"return {returns.mean():.2f} +/- {returns.std():.2f}{score}")
    print(f"Written to {path}")
    return 0
