"""Training speed of SAC and TD3: corenn (rl) against SBX (Stable-Baselines-Jax) and Stable-Baselines3, one run.

Settings for every library: 256x256 ReLU nets, batch 256, one gradient step per env step (train_freq 1,
gradient_steps 1), buffer 1e6, lr 3e-4 for actor, critics and entropy coefficient, tau 0.005, gamma 0.99,
`--learning-starts` random steps first. SAC: ent_coef "auto", target networks updated every step.
TD3: SB3's defaults (policy_delay 2, target_policy_noise 0.2, target_noise_clip 0.5) and
NormalActionNoise(0, 0.1) exploration.

SBX settings pinned so that its networks and updates match SB3's (its MlpPolicy, not SimbaPolicy):
    policy_kwargs   n_critics=2, dropout_rate=0.0, layer_norm=False (the defaults today, written out)
    qf_learning_rate = learning_rate (SBX's critic lr is a separate argument; None means "same as lr")
    SAC policy_delay=1 (SBX-only argument: actor and entropy coefficient updated every gradient step)
    TD3 learning_rate 3e-4 is SBX's default but not SB3's (1e-3): every library gets 3e-4 explicitly.
SBX samples its replay batches through SB3's torch ReplayBuffer, so torch's thread count matters for it too.

Each (library, algo, threads) measurement is its own process, because OpenBLAS, torch and XLA fix their
thread pools at start-up. `--threads 1`: OMP/OPENBLAS/MKL_NUM_THREADS=1, torch.set_num_threads(1),
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1", corenn's
blas_num_threads=1, and the process pinned to one CPU (sched_setaffinity): without the pin SBX's JAX
dispatch and runtime threads overlap its update with the env step on a second core (measured: 12.8 CPU ms
per 7.9 ms step). `--threads default`: those variables removed and nothing set, so each library
picks its own (corenn's default blas_num_threads="auto": threads from the matmul size and the free cores,
rl/core/blas_threads.py; torch and XLA use every core). JAX always
runs with JAX_PLATFORMS=cpu. On a loaded machine torch's OpenMP threads spin-wait for each other: SB3 at
its default (2 threads) on a busy 2-core box fell to ~1 env step/s, burning ~1 CPU s per step.

A worker builds its agent, learns `--learning-starts` + `--warmup` steps untimed (this covers JAX's
compilation: keep --warmup >= 200), then times `--rounds` calls of learn(`--chunk`, reset_num_timesteps=False).
The parent starts the workers of one (algo, threads) pair together and paces them round-robin (round r:
corenn, SBX, SB3; round r+1: ...), so a change of machine load hits every library alike. We report the
median over rounds of wall-clock env steps/s and of CPU ms per env step (time.process_time, all threads).

    python scripts/bench_sac_vs_sbx.py                                   # HalfCheetah-v5, SAC+TD3, 1 and default
    python scripts/bench_sac_vs_sbx.py --algos sac --threads 1 --json bench.json
    python scripts/bench_sac_vs_sbx.py --worker sbx td3 1 --env Pendulum-v1 --rounds 2   # one worker, JSON out
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # corenn and rl from this checkout

LIBS = ("corenn", "sbx", "sb3")
LIB_NAMES = {"corenn": "corenn", "sbx": "SBX", "sb3": "SB3"}
LIB_MODULES = {"corenn": ("corenn", "rl"), "sb3": ("stable_baselines3", "torch"),
               "sbx": ("sbx", "jax", "flax", "stable_baselines3", "torch")}
VERSIONED = ("numpy", "gymnasium", "mujoco", "torch", "stable-baselines3", "sbx-rl", "jax", "jaxlib", "flax", "optax")
ALGOS = ("sac", "td3")
THREADS = ("1", "default")
THREAD_LABELS = {"1": "1 (one core)", "default": "default (whole machine)"}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
MARK = "@bench-json "  # prefix of the worker's protocol lines on stdout (libraries may print other lines)

SETTINGS = dict(learning_rate=3e-4, buffer_size=1_000_000, batch_size=256, tau=0.005, gamma=0.99, train_freq=1,
                gradient_steps=1)
TD3_SETTINGS = dict(policy_delay=2, target_policy_noise=0.2, target_noise_clip=0.5)
NET_ARCH = [256, 256]
ACTION_NOISE_SIGMA = 0.1


# ----------------------------------------------------------------------------- worker (one library, one process)
def agent_kwargs(lib: str, algo: str, threads: str, n_actions: int, learning_starts: int) -> dict:
    """Constructor arguments for `lib`'s SAC/TD3 with the shared settings (fresh objects on every call)."""
    import numpy as np

    kw = dict(SETTINGS, learning_starts=learning_starts, seed=0, policy_kwargs=dict(net_arch=list(NET_ARCH)))
    if algo == "sac":
        kw["ent_coef"] = "auto"
    else:
        if lib == "corenn":
            from rl import NormalActionNoise
        else:
            from stable_baselines3.common.noise import NormalActionNoise
        noise = NormalActionNoise(np.zeros(n_actions), ACTION_NOISE_SIGMA * np.ones(n_actions))
        kw.update(TD3_SETTINGS, action_noise=noise)
    if lib == "corenn" and threads == "1":
        kw["blas_num_threads"] = 1  # else corenn's own default
    if lib == "sb3":
        kw["device"] = "cpu"
    if lib == "sbx":
        kw["qf_learning_rate"] = kw["learning_rate"]
        kw["policy_kwargs"].update(n_critics=2, dropout_rate=0.0, layer_norm=False)
        if algo == "sac":
            kw["policy_delay"] = 1
    return kw


def make_agent(lib: str, algo: str, env_id: str, threads: str = "1", learning_starts: int = 1000):
    """`lib`'s ("corenn", "sbx", "sb3") `algo` ("sac", "td3") agent on `env_id`, with a silent logger."""
    import gymnasium as gym

    if lib not in LIBS or algo not in ALGOS:
        raise ValueError(f"unknown library/algo {lib!r}/{algo!r}; libraries {LIBS}, algos {ALGOS}")
    probe = gym.make(env_id)
    action_space = probe.action_space
    probe.close()
    if not isinstance(action_space, gym.spaces.Box):
        raise ValueError(f"{env_id} has action space {action_space}; SAC and TD3 need a Box")
    kw = agent_kwargs(lib, algo, threads, int(action_space.shape[0]), learning_starts)
    if lib == "corenn":
        import rl
        return getattr(rl, algo.upper())("MlpPolicy", env_id, **kw)
    if lib == "sb3":
        import stable_baselines3 as module
    else:
        import sbx as module
    from stable_baselines3.common.logger import configure

    model = getattr(module, algo.upper())("MlpPolicy", env_id, **kw)
    model.set_logger(configure(None, []))
    return model


def timed_learn(model, steps: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process) for `steps` more env steps."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(steps, reset_num_timesteps=False, log_interval=None)
    return time.perf_counter() - wall, time.process_time() - cpu


def effective_settings(lib: str, algo: str, model) -> dict:
    """What the built agent actually holds (to check that every library runs the same thing), with the
    number of weights in its actor and in its critics (targets not counted)."""
    import numpy as np

    names = ["batch_size", "buffer_size", "learning_starts", "tau", "gamma", "gradient_steps", "learning_rate"]
    names += ["policy_delay", "target_policy_noise", "target_noise_clip"] if algo == "td3" else []
    out = {name: getattr(model, name) for name in names}
    out["train_freq"] = int(model.train_freq.frequency)
    out["action_noise"] = repr(model.action_noise)
    policy = model.policy
    if lib == "sbx":
        import jax

        out.update(qf_learning_rate=model.qf_learning_rate, n_critics=policy.n_critics,
                   dropout_rate=policy.dropout_rate, layer_norm=policy.layer_norm)
        actor = jax.tree_util.tree_leaves(policy.actor_state.params)
        critic = jax.tree_util.tree_leaves(policy.qf_state.params)
    else:
        out["n_critics"] = policy.critic.n_critics
        actor, critic = list(policy.actor.parameters()), list(policy.critic.parameters())
    out["actor_weights"] = sum(int(np.prod(w.shape)) for w in actor)
    out["critic_weights"] = sum(int(np.prod(w.shape)) for w in critic)
    return out


def versions() -> dict:
    """Installed versions of the libraries that matter here (None when missing), corenn's from the package."""
    out = {}
    for dist in VERSIONED:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    spec = importlib.util.find_spec("corenn")
    if spec is not None:
        import corenn
        out["corenn"] = corenn.__version__
    return out


def thread_report(lib: str, model) -> dict:
    """The thread counts this worker actually ran with."""
    info = {var: os.environ.get(var) for var in (*THREAD_VARS, "XLA_FLAGS")}
    if lib == "corenn":
        import corenn
        info.update(corenn_blas_num_threads=model.blas_num_threads, corenn_blas_threads_used=model.blas_threads_used,
                    blas_threads_outside_learn=corenn.get_num_threads())
    else:
        import torch
        info["torch_threads"] = torch.get_num_threads()
    return info


def set_thread_env(threads: str) -> None:
    """Pin (threads "1") or free ("default") the thread pools of OpenBLAS, torch and XLA; JAX on the CPU.

    Takes effect only before numpy / torch / jax are first imported, so a worker calls it at start-up."""
    if any(m in sys.modules for m in ("numpy", "torch", "jax")):
        print("# warning: numpy/torch/jax already imported; thread settings left as they are", file=sys.stderr)
        return
    for var in (*THREAD_VARS, "XLA_FLAGS"):
        os.environ.pop(var, None)
    os.environ["JAX_PLATFORMS"] = "cpu"
    if threads == "1":
        os.environ.update({var: "1" for var in THREAD_VARS}, XLA_FLAGS=XLA_ONE_THREAD)
        pin_to_one_core()


def pin_to_one_core() -> None:
    """Run this process (and every thread it starts) on one CPU: the thread variables leave JAX's dispatch
    and XLA's runtime threads free to use a second core, so "1 thread" alone is not "one core"."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def emit(record: dict) -> None:
    print(MARK + json.dumps(record), flush=True)


def run_worker(lib: str, algo: str, threads: str, args) -> dict:
    """Build, warm up, time `args.rounds` chunks (each after a "go" line on stdin when `args.paced`)."""
    if threads == "1" and lib in ("sb3", "sbx"):
        import torch
        torch.set_num_threads(1)
    model = make_agent(lib, algo, args.env, threads, args.learning_starts)
    wall, _ = timed_learn(model, args.learning_starts + args.warmup)
    if args.paced:
        emit({"ready": True, "warmup_s": wall})
    walls, cpus, started = [], [], []
    for r in range(args.rounds):
        if args.paced and sys.stdin.readline().strip() != "go":
            raise RuntimeError(f"worker {lib}/{algo}: expected 'go' from the parent before round {r}")
        started.append(time.time())
        wall, cpu = timed_learn(model, args.chunk)
        walls.append(wall)
        cpus.append(cpu)
        if args.paced:
            emit({"round": r, "steps_per_s": args.chunk / wall})
    sps = [args.chunk / w for w in walls]
    cpu_ms = [c / args.chunk * 1e3 for c in cpus]
    result = dict(lib=lib, algo=algo, threads=threads, env=args.env, chunk=args.chunk, rounds=args.rounds,
                  steps_per_s=sps, cpu_ms_per_step=cpu_ms, median_steps_per_s=statistics.median(sps),
                  median_cpu_ms_per_step=statistics.median(cpu_ms), round_started_unix=started,
                  num_timesteps=int(model.num_timesteps), settings=effective_settings(lib, algo, model),
                  thread_info=thread_report(lib, model), versions=versions())
    emit(result)
    return result


# ----------------------------------------------------------------------------- parent (paces the workers)
def library_available(lib: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in LIB_MODULES[lib])


class WorkerFailed(RuntimeError):
    pass


class Worker:
    """One `--worker` subprocess, driven line by line over stdin/stdout; stderr kept in a temporary file."""

    def __init__(self, lib: str, algo: str, threads: str, args):
        self.name = f"{lib}/{algo}/threads={threads}"
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", lib, algo, threads, "--paced",
               "--env", args.env, "--rounds", str(args.rounds), "--chunk", str(args.chunk),
               "--learning-starts", str(args.learning_starts), "--warmup", str(args.warmup)]
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True)

    def read(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
        self.proc.wait()
        self.stderr.seek(0)
        tail = [ln for ln in self.stderr.read().strip().splitlines() if ln.strip()][-1:] or ["no error output"]
        raise WorkerFailed(f"{self.name} exited with status {self.proc.returncode}: {tail[0]}")

    def go(self) -> dict:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def run_group(algo: str, threads: str, libs: list, args) -> dict:
    """{lib: result or {"status": ...}} for one (algo, threads) pair, libraries paced round-robin."""
    results = {lib: {"status": "not installed"} for lib in libs if not library_available(lib)}
    workers = {lib: Worker(lib, algo, threads, args) for lib in libs if lib not in results}

    def each_worker(action):  # in library order; a worker that fails is reported and retired
        for lib, worker in list(workers.items()):
            try:
                results[lib] = action(worker)
            except WorkerFailed as err:
                results[lib] = {"status": f"failed: {err}"}
                workers.pop(lib).close()

    try:
        each_worker(Worker.read)  # "ready": all built and warmed up at once (untimed)
        for _ in range(args.rounds):
            each_worker(Worker.go)
        each_worker(lambda worker: dict(worker.read(), status="ok"))
    finally:
        for worker in workers.values():
            worker.close()
    return {lib: results[lib] for lib in libs}


def machine_description() -> dict:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    return {"cpu": model, "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version(), "system": platform.platform()}


def cell(result: dict, fmt: str = "{:.1f}", key: str = "median_steps_per_s") -> str:
    return fmt.format(result[key]) if result["status"] == "ok" else result["status"].split(":")[0]


def ratio(a: dict, b: dict) -> str:
    ok = a["status"] == "ok" and b["status"] == "ok"
    return f"{a['median_steps_per_s'] / b['median_steps_per_s']:.2f}x" if ok else "-"


def format_report(report: dict) -> str:
    """The markdown header and tables of a run."""
    m, load = report["machine"], report["load_average"]
    vers = ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v is not None)
    s = report["settings"]
    lines = [f"# SAC/TD3 training speed, {report['date']}",
             f"# machine: {m['cpu']}, {m['cpu_count']} CPUs ({m['machine']}, Python {m['python']})",
             f"# load average (1/5/15 min): {'/'.join(f'{x:.2f}' for x in load['before'])} before, "
             f"{'/'.join(f'{x:.2f}' for x in load['after'])} after",
             f"# versions: {vers}",
             f"# {s['env']}: {s['learning_starts']} random + {s['warmup']} warm-up steps untimed, then "
             f"{s['rounds']} rounds of {s['chunk']} steps; medians over rounds", "",
             "| algo | threads | corenn steps/s | SBX steps/s | SB3 steps/s | corenn/SBX | corenn/SB3 |",
             "|---|---|---|---|---|---|---|"]
    cpu = ["", "CPU ms per env step (all threads of the process):", "",
           "| algo | threads | corenn | SBX | SB3 |", "|---|---|---|---|---|"]
    none = {"status": "not run"}
    for group in report["groups"]:
        r = {lib: group["results"].get(lib, none) for lib in LIBS}
        lines.append(f"| {group['algo'].upper()} | {THREAD_LABELS[group['threads']]} | {cell(r['corenn'])} | "
                     f"{cell(r['sbx'])} | {cell(r['sb3'])} | {ratio(r['corenn'], r['sbx'])} | "
                     f"{ratio(r['corenn'], r['sb3'])} |")
        cpu.append(f"| {group['algo'].upper()} | {THREAD_LABELS[group['threads']]} | "
                   + " | ".join(cell(r[lib], "{:.2f}", "median_cpu_ms_per_step") for lib in LIBS) + " |")
    failed = [f"- {g['algo']}/{g['threads']}/{lib}: {res['status']}" for g in report["groups"]
              for lib, res in g["results"].items() if res["status"].startswith("failed")]
    return "\n".join(lines + cpu + (["", "Failures:", *failed] if failed else []))


def write_json(report: dict, path: str) -> None:
    """Atomic write: a temporary file in the same folder renamed over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(report, f, indent=1)
    os.replace(tmp, path)


def run_benchmark(args) -> dict:
    report = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine_description(),
              "load_average": {"before": list(os.getloadavg())}, "versions": versions(),
              "settings": dict(env=args.env, rounds=args.rounds, chunk=args.chunk,
                               learning_starts=args.learning_starts, warmup=args.warmup, libs=args.libs,
                               shared=SETTINGS, td3=TD3_SETTINGS, net_arch=NET_ARCH,
                               action_noise_sigma=ACTION_NOISE_SIGMA, xla_flags_one_thread=XLA_ONE_THREAD),
              "groups": []}
    if "sbx" in args.libs and args.warmup < 200:
        print(f"# warning: --warmup {args.warmup} < 200: SBX's JIT compilation may fall into the timed rounds",
              file=sys.stderr)
    for algo in args.algos:
        for threads in args.threads:
            results = run_group(algo, threads, args.libs, args)
            report["groups"].append({"algo": algo, "threads": threads, "results": results})
            done = ", ".join(f"{LIB_NAMES[lib]} {cell(res)}" for lib, res in results.items())
            print(f"# {algo} threads={threads} steps/s: {done} (load {os.getloadavg()[0]:.2f})", file=sys.stderr,
                  flush=True)
    report["load_average"]["after"] = list(os.getloadavg())
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", choices=ALGOS, default=list(ALGOS))
    parser.add_argument("--libs", nargs="+", choices=LIBS, default=list(LIBS))
    parser.add_argument("--threads", nargs="+", choices=THREADS, default=list(THREADS))
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=500, help="env steps timed per round")
    parser.add_argument("--learning-starts", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=300, help="learning steps before timing (JAX compiles here)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results here")
    parser.add_argument("--worker", nargs=3, metavar=("LIB", "ALGO", "THREADS"),
                        help="run one measurement in this process and print it as one JSON line")
    parser.add_argument("--paced", action="store_true", help="(worker) wait for 'go' on stdin before each round")
    args = parser.parse_args(argv)
    for name in ("rounds", "chunk"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    for name in ("learning_starts", "warmup"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        parser.error(f"--json {args.json}: folder {os.path.dirname(os.path.abspath(args.json))} does not exist")
    if args.worker:
        lib, algo, threads = args.worker
        if lib not in LIBS or algo not in ALGOS or threads not in THREADS:
            parser.error(f"--worker LIB ALGO THREADS: got {args.worker}; LIB in {LIBS}, ALGO in {ALGOS}, "
                         f"THREADS in {THREADS}")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.worker:
        lib, algo, threads = args.worker
        if not library_available(lib):
            raise SystemExit(f"{LIB_NAMES[lib]} is not installed (needs {', '.join(LIB_MODULES[lib])})")
        set_thread_env(threads)
        return run_worker(lib, algo, threads, args)
    report = run_benchmark(args)
    print(format_report(report), flush=True)
    if args.json:
        write_json(report, args.json)
    return report


if __name__ == "__main__":
    main()
