"""agents_zoo/README.md: how the zoo was made, its table, notes and GIFs (regenerated, never edited)."""
import os

import agents_zoo

from .gifs import docs_dir

__all__ = ["readme_text", "write_readme"]


def readme_text():
    body = [
        "# agents_zoo: pretrained agents",
        "",
        "Every agent here was trained on a 2-core CPU by `python -m agents_zoo build` through our own CLI",
        "(`python -m rl train`) with the YAML defaults in `rl/hyperparams/`. Returns are deterministic",
        "evaluations measured right after training (`metadata.json` holds the exact command, the",
        "hyperparameters and the seed). `tests/agents_zoo/test_zoo.py` re-checks them.",
        "",
        "```python",
        "import agents_zoo",
        'model = agents_zoo.load("ppo", "CartPole-v1")',
        "```",
        "",
        "`python -m rl enjoy --algo ppo --env CartPole-v1` uses the zoo agent when you have no local run;",
        "`python -m rl zoo` and `python -m agents_zoo list` print this table.",
        "",
        agents_zoo.table(),
        "",
    ]
    notes = [f"- {m['algo']} {m['env_id']}: {m['note']}" for m in agents_zoo.list() if m.get("note")]
    if notes:
        body += ["Notes:", "", *notes, ""]
    docs = docs_dir()
    gifs = sorted(f for f in os.listdir(docs) if f.startswith("zoo_") and f.endswith(".gif")) \
        if os.path.isdir(docs) else []
    for gif in gifs:
        body += [f"![{gif[4:-4]}](../docs/{gif})", ""]
    return "\n".join(body)


def write_readme():
    path = os.path.join(agents_zoo.ROOT, "README.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(readme_text())
    return path
