"""Offline datasets on disk in Minari's format (HDF5 storage), written and read with h5py alone.

    write_dataset("corenn/cartpole/expert-v0", episodes, obs_space, action_space, env_spec="CartPole-v1")
    dataset = load_dataset("corenn/cartpole/expert-v0")      # or a folder path
    minari.load_dataset("corenn/cartpole/expert-v0")          # reads the same files (if minari is installed)

Layout (what minari 0.4-0.5 reads and writes): {root}/{dataset_id}/data/metadata.json and
{root}/{dataset_id}/data/main_data.hdf5, where root is $MINARI_DATASETS_PATH or ~/.minari/datasets and an id is
`namespace/name-vN`. metadata.json holds total_episodes, total_steps, data_format ("hdf5"), jpeg_encoding,
observation_space / action_space (JSON strings, `minari_spaces`), env_spec (gymnasium's EnvSpec JSON),
dataset_id, minari_version, dataset_size (MB) and optional keys such as ref_min_score / ref_max_score. The HDF5
file has one group `episode_{i}` per episode (attrs id, seed, total_steps, rewards_*), each holding the
datasets observations, actions, rewards, terminations, truncations and a group infos (`episode.Episode`).
Writing needs h5py (our `offline` extra); reading checks every episode (`episode.check_episode`) and names
the episode and field of the first problem.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from .episode import DatasetError, Episode, check_episode
from .minari_spaces import deserialize_space, serialize_space

__all__ = ["MINARI_FORMAT_VERSION", "OfflineDataset", "datasets_root", "dataset_path", "resolve_data_path",
           "write_dataset", "load_dataset", "check_dataset_id", "require_h5py"]

MINARI_FORMAT_VERSION = "0.5.4"  # the minari release whose format we write (it reads 0.4.0 to 0.5.4)
METADATA_FILE = "metadata.json"
DATA_FILE = "main_data.hdf5"
NAMESPACE_FILE = "namespace_metadata.json"
_DATASET_ID = re.compile(r"^(?:(?P<namespace>[-_\w][-_\w/]*[-_\w]+)/)?(?P<name>[-_\w]+?)-v(?P<version>\d+)$")


def require_h5py(action: str = "read or write Minari datasets"):
    """The h5py module, or an ImportError naming our `offline` extra."""
    try:
        import h5py
    except ImportError:
        raise ImportError(f'to {action} install h5py: pip install "corenn[offline]" (or pip install h5py)') from None
    return h5py


def check_dataset_id(dataset_id: str) -> str:
    """`dataset_id` if it has Minari's form `namespace/name-vN` (namespace optional), else a ValueError."""
    if not isinstance(dataset_id, str) or not _DATASET_ID.fullmatch(dataset_id):
        raise ValueError(f"malformed dataset id {dataset_id!r}: use namespace/name-vN, e.g. corenn/hopper/expert-v0")
    return dataset_id


def datasets_root(root: str | os.PathLike | None = None) -> str:
    """`root`, else $MINARI_DATASETS_PATH, else ~/.minari/datasets (Minari's rule)."""
    if root is not None:
        return os.fspath(root)
    return os.environ.get("MINARI_DATASETS_PATH") or os.path.join(os.path.expanduser("~"), ".minari", "datasets")


def dataset_path(dataset_id: str, root: str | os.PathLike | None = None) -> str:
    """The folder of `dataset_id` under the datasets root (it holds data/)."""
    return os.path.join(datasets_root(root), check_dataset_id(dataset_id))


def resolve_data_path(id_or_path: str | os.PathLike, root: str | os.PathLike | None = None) -> str:
    """The data/ folder (holding metadata.json) of a dataset given by id or by path; FileNotFoundError naming
    the places tried."""
    text = os.fspath(id_or_path)
    tried = []
    for folder in (text, os.path.join(text, "data")):
        if os.path.isfile(os.path.join(folder, METADATA_FILE)):
            return folder
        tried.append(folder)
    if _DATASET_ID.fullmatch(text):
        folder = os.path.join(dataset_path(text, root), "data")
        if os.path.isfile(os.path.join(folder, METADATA_FILE)):
            return folder
        tried.append(folder)
    raise FileNotFoundError(f"no dataset {text!r}: no {METADATA_FILE} in {', '.join(dict.fromkeys(tried))} "
                            f"(datasets root: {datasets_root(root)}; set MINARI_DATASETS_PATH to change it)")


@dataclass
class OfflineDataset:
    """A dataset read from disk: its episodes (`Episode`), spaces and raw metadata.json."""

    dataset_id: str
    path: str
    observation_space: gym.Space
    action_space: gym.Space
    episodes: list
    metadata: dict

    def __len__(self) -> int:
        return len(self.episodes)

    @property
    def total_steps(self) -> int:
        return int(sum(len(e) for e in self.episodes))

    @property
    def env_id(self) -> str | None:
        """The id of the env that made the data (from env_spec), or None."""
        spec = self.metadata.get("env_spec")
        try:
            return json.loads(spec).get("id") if isinstance(spec, str) else None
        except ValueError:
            return None

    @property
    def ref_min_score(self) -> float | None:
        return self.metadata.get("ref_min_score")

    @property
    def ref_max_score(self) -> float | None:
        return self.metadata.get("ref_max_score")


# ----------------------------------------------------------------------------- writing
def _env_spec_json(env_spec) -> str | None:
    """gymnasium EnvSpec JSON of an env id / EnvSpec / env, or None when it cannot be serialised."""
    if env_spec is None:
        return None
    if isinstance(env_spec, str):
        env_spec = gym.spec(env_spec)
    elif isinstance(env_spec, gym.Env):
        env_spec = env_spec.spec
    try:
        return env_spec.to_json() if env_spec is not None else None
    except (TypeError, ValueError, AttributeError):  # a callable entry point: Minari also leaves env_spec out
        return None


def _write_values(h5py, group, key: str, values, space: gym.Space) -> None:
    if isinstance(space, gym.spaces.Dict):
        sub = group.create_group(key, track_order=True)
        for k, s in space.spaces.items():
            _write_values(h5py, sub, k, values[k], s)
        return
    arr = np.asarray(values, dtype=np.int64 if isinstance(space, gym.spaces.Discrete) else space.dtype)
    group.create_dataset(key, data=arr, chunks=True, maxshape=(None, *arr.shape[1:]))


def _write_infos(group, infos: dict | None) -> None:
    sub = group.create_group("infos", track_order=True)
    for key, value in (infos or {}).items():
        if isinstance(value, dict):
            _write_infos(sub.create_group(key), value)  # nested dicts: nested groups
        else:
            arr = np.asarray(value)
            sub.create_dataset(key, data=arr, chunks=True, maxshape=(None, *arr.shape[1:]))


def _write_episode(h5py, file, index: int, episode: Episode, obs_space, act_space) -> None:
    group = file.create_group(f"episode_{index}", track_order=True)
    _write_values(h5py, group, "observations", episode.observations, obs_space)
    _write_values(h5py, group, "actions", episode.actions, act_space)
    rewards = np.asarray(episode.rewards, np.float64)
    group.create_dataset("rewards", data=rewards, chunks=True, maxshape=(None,))
    for key in ("terminations", "truncations"):
        group.create_dataset(key, data=np.asarray(getattr(episode, key), bool), chunks=True, maxshape=(None,))
    _write_infos(group, episode.infos)
    group.attrs["id"] = index
    if episode.seed is not None:
        group.attrs["seed"] = int(episode.seed)
    group.attrs["total_steps"] = len(rewards)
    group.attrs.update({"rewards_sum": float(rewards.sum()), "rewards_mean": float(rewards.mean()),
                        "rewards_std": float(rewards.std()), "rewards_max": float(rewards.max()),
                        "rewards_min": float(rewards.min())})  # minari's EpisodeMetadataCallback


def _folder_size_mb(folder: str) -> float:
    return round(sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)) / 1e6, 1)


def _write_namespaces(root: str, dataset_id: str) -> None:
    """namespace_metadata.json in each namespace folder of the id, as minari.create_namespace leaves them."""
    parts = dataset_id.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        path = os.path.join(root, *parts[:i], NAMESPACE_FILE)
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                json.dump({}, fh)


def write_dataset(dataset_id: str, episodes, observation_space: gym.Space, action_space: gym.Space,
                  env_spec=None, metadata: dict | None = None, root: str | os.PathLike | None = None,
                  overwrite: bool = False) -> str:
    """Write `episodes` as the Minari dataset `dataset_id` under `root`; returns its data/ folder.

    env_spec: an env id, EnvSpec or env (stored so that minari can recover the env), or None.
    metadata: extra metadata.json keys (ref_min_score, ref_max_score, algorithm_name, description, ...).
    Every episode is checked first (DatasetError naming it); files go to a hidden temporary folder that is
    renamed into place, so a failed write leaves nothing behind. An existing dataset is a FileExistsError
    unless `overwrite`.
    """
    h5py = require_h5py("write Minari datasets")
    episodes = list(episodes)
    if not episodes:
        raise ValueError("write_dataset needs at least one episode")
    for i, episode in enumerate(episodes):
        check_episode(episode, observation_space, action_space, f"episode_{i}")
    root = datasets_root(root)
    target = dataset_path(dataset_id, root)
    if os.path.exists(target) and not overwrite:
        raise FileExistsError(f"a dataset {dataset_id!r} already exists at {target}; choose another id or version, "
                              "or overwrite it")
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(target)}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    try:
        with h5py.File(os.path.join(data, DATA_FILE), "w", track_order=True) as fh:
            for i, episode in enumerate(episodes):
                _write_episode(h5py, fh, i, episode, observation_space, action_space)
        meta = {"total_episodes": len(episodes), "total_steps": int(sum(len(e) for e in episodes)),
                "data_format": "hdf5", "jpeg_encoding": False,
                "observation_space": serialize_space(observation_space),
                "action_space": serialize_space(action_space)}
        spec = _env_spec_json(env_spec)
        if spec is not None:
            meta["env_spec"] = spec
        meta.update({k: v for k, v in (metadata or {}).items() if k not in meta})
        meta.update(dataset_id=dataset_id, minari_version=MINARI_FORMAT_VERSION)
        meta["dataset_size"] = _folder_size_mb(data)
        with open(os.path.join(data, METADATA_FILE), "w") as fh:
            json.dump(meta, fh)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_namespaces(root, dataset_id)
    return os.path.join(target, "data")


# ----------------------------------------------------------------------------- reading
def _is_jpeg_space(space: gym.Space) -> bool:
    """Minari's test for image spaces it JPEG-encodes (uint8 HxW(xC), at least 32x32, bounds 0..255)."""
    return (isinstance(space, gym.spaces.Box) and len(space.shape) in (2, 3) and space.shape[0] >= 32
            and space.shape[1] >= 32 and space.dtype == np.uint8 and bool(np.all(space.low == 0))
            and bool(np.all(space.high == 255)))


def _decode_jpeg(where: str, frames) -> np.ndarray:
    try:
        import io

        from PIL import Image
    except ImportError:
        raise DatasetError(f"{where}: JPEG-encoded images need Pillow (pip install pillow)") from None
    return np.stack([np.array(Image.open(io.BytesIO(bytes(f))), dtype=np.uint8) for f in frames])


def _read_values(h5py, group, key: str, space: gym.Space, where: str, jpeg: bool):
    if key not in group:
        raise DatasetError(f"{where}: missing")
    node = group[key]
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(node, h5py.Group):
            raise DatasetError(f"{where}: expected a group of {sorted(space.spaces)} for a Dict space")
        return {k: _read_values(h5py, node, k, s, f"{where}/{k}", jpeg) for k, s in space.spaces.items()}
    if not isinstance(node, h5py.Dataset):
        raise DatasetError(f"{where}: expected an array, found a group")
    if jpeg and _is_jpeg_space(space):
        return _decode_jpeg(where, node[()])
    return node[()]


def _read_infos(h5py, group) -> dict:
    return {k: _read_infos(h5py, v) if isinstance(v, h5py.Group) else v[()] for k, v in group.items()}


def _read_metadata(data_path: str) -> dict:
    path = os.path.join(data_path, METADATA_FILE)
    try:
        with open(path) as fh:
            meta = json.load(fh)
    except ValueError as e:
        raise DatasetError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"{path}: expected a JSON object")
    if meta.get("data_format", "hdf5") != "hdf5":
        raise DatasetError(f"{path}: data_format {meta['data_format']!r}; this reader reads 'hdf5' datasets "
                           "(load arrow datasets with minari itself)")
    for key in ("total_episodes", "total_steps"):
        if not isinstance(meta.get(key), int) or isinstance(meta.get(key), bool) or meta[key] < 0:
            raise DatasetError(f"{path}: {key} must be a whole number >= 0, got {str(meta.get(key))[:40]!r}")
    return meta


def _spaces(meta: dict, path: str) -> tuple[gym.Space, gym.Space]:
    spaces = {}
    for key in ("observation_space", "action_space"):
        if key in meta:
            try:
                spaces[key] = deserialize_space(meta[key], f"{path}: {key}")
            except ValueError as e:
                raise DatasetError(str(e)) from None
    if len(spaces) < 2:  # Minari's fallback: the spaces of the env in env_spec
        env_id = OfflineDataset("", path, None, None, [], meta).env_id
        if env_id is None:
            raise DatasetError(f"{path}: metadata has neither observation_space/action_space nor an env_spec")
        env = gym.make(env_id)
        spaces.setdefault("observation_space", env.observation_space)
        spaces.setdefault("action_space", env.action_space)
        env.close()
    return spaces["observation_space"], spaces["action_space"]


def load_dataset(id_or_path: str | os.PathLike, root: str | os.PathLike | None = None) -> OfflineDataset:
    """Read a Minari HDF5 dataset (ours or minari's) by id or folder, checking every episode.

    Raises FileNotFoundError when there is no such dataset, DatasetError naming the file, episode and field
    of the first problem (missing or misshapen arrays, lengths, flags before the last step, NaN, values
    outside the spaces), ImportError naming the `offline` extra without h5py.
    """
    data_path = resolve_data_path(id_or_path, root)
    h5py = require_h5py("read Minari datasets")
    meta = _read_metadata(data_path)
    obs_space, act_space = _spaces(meta, data_path)
    jpeg = bool(meta.get("jpeg_encoding", True))
    file = os.path.join(data_path, DATA_FILE)
    if not os.path.isfile(file):
        raise DatasetError(f"{data_path}: {DATA_FILE} is missing")
    episodes = []
    try:
        fh = h5py.File(file, "r")
    except OSError as e:
        raise DatasetError(f"{file}: not a readable HDF5 file ({e})") from None
    with fh:
        found = sum(1 for k in fh.keys() if k.startswith("episode_"))
        if found != meta["total_episodes"]:
            raise DatasetError(f"{file}: holds {found} episodes; metadata.json says total_episodes="
                               f"{meta['total_episodes']}")
        for i in range(meta["total_episodes"]):
            where = f"{file}: episode_{i}"
            if f"episode_{i}" not in fh:
                raise DatasetError(f"{where}: missing (episodes must be numbered 0 to {found - 1})")
            group = fh[f"episode_{i}"]
            fields = {k: _read_values(h5py, group, k, s, f"{where}/{k}", jpeg)
                      for k, s in (("observations", obs_space), ("actions", act_space))}
            for key in ("rewards", "terminations", "truncations"):
                if key not in group or not isinstance(group[key], h5py.Dataset):
                    raise DatasetError(f"{where}/{key}: missing")
                fields[key] = group[key][()]
            infos = _read_infos(h5py, group["infos"]) if isinstance(group.get("infos"), h5py.Group) else None
            seed = group.attrs.get("seed")
            episode = Episode(infos=infos, seed=None if seed is None else int(seed), **fields)
            check_episode(episode, obs_space, act_space, where)
            episodes.append(episode)
    steps = sum(len(e) for e in episodes)
    if steps != meta["total_steps"]:
        raise DatasetError(f"{file}: holds {steps} steps; metadata.json says total_steps={meta['total_steps']}")
    dataset_id = meta.get("dataset_id") if isinstance(meta.get("dataset_id"), str) else os.fspath(id_or_path)
    return OfflineDataset(dataset_id, data_path, obs_space, act_space, episodes, meta)
