"""Command line of the zoo: python -m agents_zoo build | list.

    python -m agents_zoo build ppo:CartPole-v1 a2c:CartPole-v1 [--seed 0] [-n STEPS] [--episodes 10] [--gif]
    python -m agents_zoo build --readme-only      # regenerate agents_zoo/README.md
    python -m agents_zoo build --from-runs sac:HalfCheetah-v5 logs/zoo/sac/HalfCheetah-v5_1 [more -i runs]
    python -m agents_zoo build --recompact        # re-save every zoo agent in the compact format
    python -m agents_zoo build sac:HalfCheetah-v5 --gif-steps 120   # only (re)record a GIF
    python -m agents_zoo list                     # the table of the zoo

Every build command ends by regenerating agents_zoo/README.md.
"""
import argparse

import agents_zoo

__all__ = ["build_parser", "main"]


def _add_build_args(parser):
    parser.add_argument("agents", nargs="*", help="ALGO:ENV pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-n", "--n-timesteps", type=int, default=None)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--gif", action="store_true")
    parser.add_argument("--readme-only", action="store_true")
    parser.add_argument("--extra", default="", help="extra CLI arguments, e.g. '-params learning_starts:1000'")
    parser.add_argument("--from-runs", nargs="+", metavar="ALGO:ENV FOLDER",
                        help="add the final model of CLI run folders (fresh run first, then -i runs)")
    parser.add_argument("--note", default=None, help="with --from-runs: a remark for metadata.json")
    parser.add_argument("--best", action="store_true", help="with --from-runs: the best_model.npz of the runs")
    parser.add_argument("--recompact", action="store_true", help="re-save every zoo agent compactly")
    parser.add_argument("--gif-steps", type=int, default=0, help="with ALGO:ENV pairs: only record their GIFs")


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m agents_zoo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="{build,list}")
    _add_build_args(sub.add_parser("build", help="train or add zoo agents, then regenerate the README"))
    sub.add_parser("list", help="print the table of the zoo")
    return parser


def _pair(text, parser):
    algo, sep, env_id = text.partition(":")
    if not sep or not algo or not env_id:
        parser.error(f"expected ALGO:ENV, got {text!r}")
    return algo, env_id


def build(args, parser):
    from .build import from_runs, recompact, train_one
    from .gifs import record_gif
    from .readme import write_readme

    if args.recompact:
        recompact()
    elif args.from_runs:
        algo, env_id = _pair(args.from_runs[0], parser)
        if len(args.from_runs) < 2:
            parser.error("--from-runs needs ALGO:ENV and at least one run folder")
        from_runs(algo, env_id, args.from_runs[1:], args.episodes, args.best, args.note)
    elif args.gif_steps:
        for pair in args.agents:
            record_gif(*_pair(pair, parser), steps=args.gif_steps)
    elif not args.readme_only:
        for pair in args.agents:
            train_one(*_pair(pair, parser), args.seed, args.n_timesteps, args.episodes, args.extra.split(), args.gif)
    print(f"Wrote {write_readme()}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        print(agents_zoo.table())
    elif args.command == "build":
        build(args, parser)
    else:
        parser.print_help()
        return 2
    return 0
