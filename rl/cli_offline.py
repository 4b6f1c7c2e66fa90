"""`python -m rl train --algo bc --env CartPole-v1 --dataset ID|PATH`: train an offline algorithm on a dataset.

The run folder, config.yml, TensorBoard logs, checkpoints and evaluations are those of `python -m rl train`;
n_timesteps (YAML or -n) counts gradient steps, --eval-freq and --save-freq too; `-i agent.npz` continues a saved
agent for n_timesteps more steps (a run in stages). The env is used only to
evaluate; at the end the agent is evaluated on --eval-episodes episodes and its D4RL normalised score printed
when the dataset (or rl/data/reference_scores.json) has reference scores.
"""

from __future__ import annotations

import os

from rl.cli_checks import CLIError, check_reserved_params, check_writable_folder, make_env_checked
from rl.cli_runs import create_run_folder, learn_and_save, load_trained_agent, next_run_folder, safe_env_name

__all__ = ["OFFLINE_ALGOS", "DEMONSTRATION_ALGOS", "offline_algos", "add_demonstrations", "cmd_train_offline"]


def offline_algos() -> dict:
    """Offline algorithm names -> classes (they train from --dataset, not from env steps)."""
    from rl.bc import BC
    from rl.cql import CQL

    return {"bc": BC, "cql": CQL}


OFFLINE_ALGOS = ("bc", "cql")
DEMONSTRATION_ALGOS = ("gail",)  # online algorithms that imitate --dataset (their `demonstrations` argument)


def add_demonstrations(args, overrides: dict) -> None:
    """gail: --dataset (checked here: readable, recorded on --env) becomes the `demonstrations` hyperparameter."""
    if args.algo not in DEMONSTRATION_ALGOS:
        return
    if args.trained_agent:
        raise CLIError(f"-i is not supported for {args.algo}; train a new agent with --dataset")
    if args.dataset is None:
        if "demonstrations" in overrides:
            return
        raise CLIError(f"--algo {args.algo} imitates expert demonstrations: add --dataset ID|PATH (record them "
                       f"with python -m rl collect --env {args.env} --kind expert --algo ALGO --episodes N)")
    _dataset(args)
    overrides["demonstrations"] = args.dataset


def _dataset(args):
    from rl.data import DatasetError, flat_view, load_dataset

    if not args.dataset:
        raise CLIError(f"--algo {args.algo} learns from a dataset: add --dataset ID|PATH (record one with "
                       f"python -m rl collect --env {args.env} --kind expert ...)")
    try:
        data = flat_view(load_dataset(args.dataset))
    except (DatasetError, FileNotFoundError, ImportError) as e:
        raise CLIError(f"--dataset {args.dataset}: {e}") from None
    if data.env_id is not None and data.env_id != args.env:
        raise CLIError(f"--dataset {args.dataset} was recorded on {data.env_id}, not on --env {args.env}")
    return data


def cmd_train_offline(args) -> int:
    from rl.cli import ensure_registered
    from rl.core.callbacks import CheckpointCallback, EvalCallback
    from rl.core.evaluation import evaluate_policy
    from rl.core.vec_env import make_vec_env
    from rl.data import env_normalized_score, normalized_score
    from rl.hyperparams import parse_params, resolve

    algos = offline_algos()
    if args.algo not in algos:
        raise CLIError(f"--dataset is for offline algorithms ({', '.join(sorted(algos))}); {args.algo} learns "
                       "from env steps")
    algo_cls = algos[args.algo]
    ensure_registered(args.env)
    check_writable_folder(args.log_folder, "-f")
    overrides = parse_params(args.params)
    check_reserved_params(overrides)
    data = _dataset(args)
    hp = resolve(args.algo, args.env, overrides, algo_cls=algo_cls,
                 n_timesteps=args.n_timesteps if args.n_timesteps > 0 else None, n_envs=1)
    save_path, model_path = next_run_folder(args)
    tensorboard_log = save_path if args.tensorboard_log is None else os.path.join(args.tensorboard_log,
                                                                                  safe_env_name(args.env))
    if args.trained_agent:  # a further stage: hp.n_timesteps more gradient steps on the loaded agent
        model = load_trained_agent(args, algo_cls, None, tensorboard_log, dataset=data)
    else:
        try:
            model = algo_cls(hp.policy, env=None, dataset=data, seed=args.seed, tensorboard_log=tensorboard_log,
                             verbose=args.verbose, **hp.kwargs)
        except (ValueError, TypeError) as e:
            raise CLIError(f"{algo_cls.__name__} cannot be built: {e}") from None
    model.env_id = args.env
    eval_env = make_env_checked(lambda: make_vec_env(args.env, n_envs=1,
                                                     seed=None if args.seed is None else args.seed + 10_000), args.env)
    try:
        callbacks = []
        if args.save_freq > 0:
            callbacks.append(CheckpointCallback(save_freq=args.save_freq, save_path=save_path, name_prefix="rl_model",
                                                verbose=args.verbose))
        if args.eval_freq > 0:
            callbacks.append(EvalCallback(eval_env, n_eval_episodes=args.eval_episodes, eval_freq=args.eval_freq,
                                          best_model_save_path=save_path, log_path=save_path, deterministic=True,
                                          verbose=args.verbose))
        create_run_folder(args, save_path, hp.entry, dict(hp.config, dataset=args.dataset))
        print(f"Training {args.algo} on {args.dataset} ({len(data)} transitions) for {hp.n_timesteps} gradient "
              f"steps ({hp.entry!r} hyperparameters)")
        print(f"Saving to {save_path}")
        status = learn_and_save(model, model_path, lambda: model.learn(
            hp.n_timesteps, callback=callbacks, progress_bar=args.progress, reset_num_timesteps=not args.trained_agent))
        mean, std = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
    finally:
        eval_env.close()
    if data.ref_min_score is not None and data.ref_max_score is not None:
        score = normalized_score(mean, data.ref_min_score, data.ref_max_score)
    else:
        score = env_normalized_score(args.env, mean)
    text = "" if score is None else f", normalised score {score:.1f}"
    print(f"{args.algo} on {args.env}: mean_reward={mean:.2f} +/- {std:.2f} over {args.eval_episodes} "
          f"episodes{text}")
    return status
