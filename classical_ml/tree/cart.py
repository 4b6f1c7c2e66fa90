"""CART tree growth, level by level, and the array-based ``Tree`` it returns.

All nodes at one depth are split together. Their samples sit in contiguous
segments of one index array; each node draws its candidate features, each
(sample, candidate) value is sorted within its segment, and every threshold
of every node is scored at once from segment-wise cumulative sums. The
Python loop runs once per depth level, not per node or per sample.

Class impurities avoid a (samples x features x classes) count array: moving
the r-th sample of class c (in sorted order) to the left child raises
sum_c n_c^2 by 2r + 1 and sum_c n_c log n_c by (r+1)log(r+1) - r log r,
so both children's impurities are cumulative sums of per-sample increments.
"""
from __future__ import annotations

import numpy as np

FEATURE_THRESHOLD = 1e-7   # two values closer than this are not split apart


class Tree:
    """Fitted tree as parallel arrays indexed by node id (root is 0).

    feature (n_nodes,) int, -1 marks a leaf; threshold (n_nodes,) float
    (go left when ``x[feature] <= threshold``); children_left/right
    (n_nodes,) int, -1 at leaves; value (n_nodes, n_outputs) class
    fractions or target means; impurity, n_node_samples (n_nodes,).
    """

    def __init__(self, feature, threshold, left, right, value, impurity,
                 n_node_samples, max_depth):
        self.feature = np.asarray(feature, dtype=np.intp)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.children_left = np.asarray(left, dtype=np.intp)
        self.children_right = np.asarray(right, dtype=np.intp)
        self.value = np.asarray(value, dtype=np.float64)
        self.impurity = np.asarray(impurity, dtype=np.float64)
        self.n_node_samples = np.asarray(n_node_samples, dtype=np.intp)
        self.max_depth = int(max_depth)

    @property
    def node_count(self) -> int:
        return len(self.feature)

    @property
    def n_leaves(self) -> int:
        return int(np.sum(self.feature < 0))

    def apply(self, X: np.ndarray) -> np.ndarray:
        """X: (n, d) -> leaf id reached by each sample, (n,)."""
        node = np.zeros(X.shape[0], dtype=np.intp)
        active = np.arange(X.shape[0])
        while active.size:
            cur = node[active]
            feat = self.feature[cur]
            internal = feat >= 0
            active, cur, feat = active[internal], cur[internal], feat[internal]
            if not active.size:
                break
            go_left = X[active, feat] <= self.threshold[cur]
            node[active] = np.where(go_left, self.children_left[cur],
                                    self.children_right[cur])
        return node

    def predict(self, X: np.ndarray) -> np.ndarray:
        """X: (n, d) -> leaf values (n, n_outputs)."""
        return self.value[self.apply(X)]


def _max_features(max_features, n_features: int) -> int:
    """Resolve ``max_features`` (None/'sqrt'/'log2'/int/float) to a count."""
    if max_features is None:
        return n_features
    if max_features == "sqrt":
        return max(1, int(np.sqrt(n_features)))
    if max_features == "log2":
        return max(1, int(np.log2(n_features)))
    if isinstance(max_features, (int, np.integer)) and not isinstance(
            max_features, bool):
        if not 1 <= max_features <= n_features:
            raise ValueError(f"max_features must be in [1, {n_features}], "
                             f"got {max_features}.")
        return int(max_features)
    if isinstance(max_features, float) and 0.0 < max_features <= 1.0:
        return max(1, int(max_features * n_features))
    raise ValueError("max_features must be None, 'sqrt', 'log2', an int in "
                     f"[1, n_features] or a float in (0, 1], got "
                     f"{max_features!r}.")


def _xlogx(n: int) -> np.ndarray:
    """Table of r * log(r) for r = 0..n (0 log 0 = 0)."""
    r = np.arange(n + 1, dtype=np.float64)
    out = np.zeros(n + 1)
    out[1:] = r[1:] * np.log(r[1:])
    return out


def _small_int(a: np.ndarray, upper: int) -> np.ndarray:
    """Cast non-negative ints below ``upper`` to uint16 when they fit, so
    that stable sorts use radix sort."""
    return a.astype(np.uint16) if upper < 65536 else a


class _Level:
    """Samples of the nodes at one depth, grouped in contiguous segments."""

    def __init__(self, rows, seg, sizes):
        self.rows, self.seg, self.sizes = rows, seg, sizes
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def cumsum(self, a: np.ndarray) -> np.ndarray:
        """Cumulative sum along axis 0 restarting at every segment: (R, k)."""
        cs = np.cumsum(a, axis=0)
        offset = np.zeros((len(self.sizes),) + a.shape[1:], dtype=cs.dtype)
        offset[1:] = cs[self.starts[1:] - 1]
        return cs - offset[self.seg]


def _impurity(counts: np.ndarray, sizes: np.ndarray, criterion: str):
    """Gini or entropy (bits) of class counts (S, C) -> (S,)."""
    p = counts / sizes[:, None]
    if criterion == "gini":
        return 1.0 - np.einsum("sc,sc->s", p, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log2(p), 0.0), axis=1)


class _Stats:
    """Per-node statistics: class counts, or target sums for regression."""

    def __init__(self, y, n_classes, criterion):
        self.y, self.C, self.criterion = y, n_classes, criterion

    def of(self, rows, seg, n_seg):
        """-> (stats, impurity (S,), value (S, C or 1)) of each segment."""
        t = self.y[rows]
        sizes = np.bincount(seg, minlength=n_seg).astype(np.float64)
        if self.C is not None:
            counts = np.bincount(seg * self.C + t, minlength=n_seg * self.C)
            counts = counts.reshape(n_seg, self.C)
            return counts, _impurity(counts, sizes, self.criterion), \
                counts / sizes[:, None]
        sums = np.bincount(seg, weights=t, minlength=n_seg)
        mean = sums / sizes
        var = np.bincount(seg, weights=(t - mean[seg]) ** 2,
                          minlength=n_seg) / sizes
        return sums, var, mean[:, None]


def _scores(lv: _Level, ys, stats, criterion, xlogx, nl, nr):
    """Higher-is-better score of every threshold: (R, k)."""
    seg, R = lv.seg, len(lv.rows)
    if stats.dtype.kind == "f":                              # regression
        # with targets centred per node, the SSE decrease of a split is
        # left_sum^2 * (1/n_l + 1/n_r); centring keeps the sums small
        mean = stats / lv.sizes
        left = lv.cumsum(ys - mean[seg][:, None])
        return left * left * (1.0 / nl + 1.0 / nr)
    S, C = stats.shape
    k = ys.shape[1]
    # rank[i, j]: samples of the same node and class before row i in column j
    group = _small_int(seg[:, None] * C + ys, S * C)
    by_group = np.argsort(group, axis=0, kind="stable")
    flat = stats.ravel()
    starts = np.concatenate([[0], np.cumsum(flat)[:-1]])
    rank_sorted = np.arange(R) - np.repeat(starts, flat)
    rank = np.empty((R, k), dtype=np.int64)
    rank[by_group, np.arange(k)] = rank_sorted[:, None]
    remaining = stats[seg[:, None], ys] - rank      # left on the right side
    if criterion == "gini":
        sq_l = lv.cumsum(2 * rank + 1)
        sq_r = (stats * stats).sum(axis=1)[seg][:, None] \
            - lv.cumsum(2 * remaining - 1)
        return sq_l / nl + sq_r / nr
    ent_l = lv.cumsum(xlogx[rank + 1] - xlogx[rank])
    ent_r = xlogx[stats].sum(axis=1)[seg][:, None] \
        + lv.cumsum(xlogx[remaining - 1] - xlogx[remaining])
    return ent_l + ent_r - nl * np.log(nl) - nr * np.log(nr)


def _find_splits(X, lv: _Level, stats, node_stats: _Stats, max_features,
                 min_samples_leaf, rng, xlogx):
    """Best split of every segment: (has_split (S,), feature, threshold)."""
    S, d = len(lv.sizes), X.shape[1]
    R = len(lv.rows)
    Xr = X[lv.rows]
    lo = np.minimum.reduceat(Xr, lv.starts, axis=0)
    hi = np.maximum.reduceat(Xr, lv.starts, axis=0)
    nonconst = hi > lo + FEATURE_THRESHOLD
    # each node: its first max_features non-constant features in random order
    keys = rng.random((S, d))
    keys[~nonconst] = 2.0
    cand = np.argsort(keys, axis=1)[:, :max_features]            # (S, k)
    slot_ok = np.take_along_axis(nonconst, cand, axis=1)
    k = cand.shape[1]
    cols = np.arange(k)
    V = Xr[np.arange(R)[:, None], cand[lv.seg]]                  # (R, k)
    by_value = np.argsort(V, axis=0)
    by_node = np.argsort(_small_int(lv.seg, S)[by_value], axis=0,
                         kind="stable")
    order = by_value[by_node, cols]          # value order inside each node
    Xs = V[order, cols]
    pos = np.arange(R) - lv.starts[lv.seg]
    size = lv.sizes[lv.seg]
    nl = (pos + 1.0)[:, None]
    nr = size[:, None] - nl
    valid = np.zeros((R, k), dtype=bool)
    valid[:-1] = (Xs[1:] > Xs[:-1] + FEATURE_THRESHOLD) \
        & (pos[:-1] < size[:-1] - 1)[:, None]
    valid &= slot_ok[lv.seg]
    if min_samples_leaf > 1:
        valid &= (nl >= min_samples_leaf) & (nr >= min_samples_leaf)
    ys = node_stats.y[lv.rows][order]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = _scores(lv, ys, stats, node_stats.criterion, xlogx, nl, nr)
    score[~valid] = -np.inf
    # ties: first candidate column (random order), then first threshold
    col_best = np.maximum.reduceat(score, lv.starts, axis=0)      # (S, k)
    best_col = np.argmax(col_best, axis=1)
    best = col_best[np.arange(S), best_col]
    has = best > -np.inf
    at = score[np.arange(R), best_col[lv.seg]]
    hit = np.flatnonzero((at == best[lv.seg]) & has[lv.seg])
    first = np.ones(hit.size, dtype=bool)
    first[1:] = lv.seg[hit[1:]] != lv.seg[hit[:-1]]
    best_row = np.zeros(S, dtype=np.intp)
    best_row[lv.seg[hit[first]]] = hit[first]
    c = best_col
    lo_v = Xs[best_row, c]
    hi_v = Xs[np.minimum(best_row + 1, R - 1), c]
    thr = (lo_v + hi_v) / 2.0
    thr = np.where((thr >= hi_v) | np.isinf(thr), lo_v, thr)
    feature = cand[np.arange(S), c]
    return has, feature, thr


def grow_tree(X: np.ndarray, y: np.ndarray, n_classes, criterion: str,
              max_depth, min_samples_split: int, min_samples_leaf: int,
              max_features: int, min_impurity_decrease: float,
              rng: np.random.Generator) -> tuple[Tree, np.ndarray]:
    """Grow a CART tree breadth first; nodes are numbered depth first.

    X: (n, d); y: (n,) labels in 0..n_classes-1 for classification, or
    float targets with ``n_classes=None`` for regression (squared error).
    Returns (tree, per-feature total weighted impurity decrease (d,)).
    """
    n, d = X.shape
    max_depth = np.inf if max_depth is None else max_depth
    xlogx = _xlogx(n + 1) if criterion == "entropy" else None
    node_stats = _Stats(y, n_classes, criterion)
    importances = np.zeros(d)
    lv = _Level(np.arange(n), np.zeros(n, dtype=np.intp),
                np.array([n], dtype=np.intp))
    stats, imp, value = node_stats.of(lv.rows, lv.seg, 1)
    levels = []             # per depth: dict of node arrays, in id order
    next_id, depth = 1, 0
    while True:
        S = len(lv.sizes)
        node = {"feature": np.full(S, -1, dtype=np.intp),
                "threshold": np.full(S, -2.0), "left": np.full(S, -1),
                "right": np.full(S, -1), "value": value, "impurity": imp,
                "n_samples": lv.sizes.copy()}
        levels.append(node)
        ok = ((depth < max_depth) & (lv.sizes >= min_samples_split)
              & (lv.sizes >= 2 * min_samples_leaf) & (imp > 1e-12))
        if not ok.any():
            break
        # keep only the splittable segments
        sub = _Level(lv.rows[ok[lv.seg]], (np.cumsum(ok) - 1)[lv.seg[ok[
            lv.seg]]], lv.sizes[ok])
        has, feat, thr = _find_splits(X, sub, stats[ok], node_stats,
                                      max_features, min_samples_leaf, rng,
                                      xlogx)
        parents = np.flatnonzero(ok)          # level positions of sub's nodes
        for _ in range(2):                    # second pass only if pruned
            in_split = has[sub.seg]
            rows = sub.rows[in_split]
            seg = sub.seg[in_split]
            go_left = X[rows, feat[seg]] <= thr[seg]
            child = 2 * (np.cumsum(has) - 1)[seg] + (~go_left)
            n_child = 2 * int(has.sum())
            c_stats, c_imp, c_value = node_stats.of(rows, child, n_child)
            c_size = np.bincount(child, minlength=n_child)
            sp = np.flatnonzero(has)
            m = sub.sizes[sp]
            decrease = (m * imp[parents[sp]] - c_size[0::2] * c_imp[0::2]
                        - c_size[1::2] * c_imp[1::2]) / n
            weak = decrease < min_impurity_decrease
            if not weak.any():
                break
            has[sp[weak]] = False
        if not has.any():
            break
        sp = np.flatnonzero(has)
        pos = parents[sp]
        node["feature"][pos] = feat[sp]
        node["threshold"][pos] = thr[sp]
        node["left"][pos] = next_id + 2 * np.arange(sp.size)
        node["right"][pos] = node["left"][pos] + 1
        importances += np.bincount(feat[sp], weights=decrease, minlength=d)
        next_id += 2 * sp.size
        order = np.argsort(_small_int(child, n_child), kind="stable")
        lv = _Level(rows[order], child[order], c_size)
        stats, imp, value = c_stats, c_imp, c_value
        depth += 1
    arrays = {key: np.concatenate([lv_[key] for lv_ in levels])
              for key in levels[0]}
    return _depth_first(arrays, [len(lv_["impurity"]) for lv_ in levels]), \
        importances


def _depth_first(a: dict, level_sizes: list) -> Tree:
    """Renumber breadth-first node arrays into depth-first (pre-)order.

    ``level_sizes``: number of nodes at each depth; ids are consecutive per
    depth, so subtree sizes and positions are computed one level at a time.
    """
    left, right = a["left"], a["right"]
    bounds = np.concatenate([[0], np.cumsum(level_sizes)])
    levels = [np.arange(bounds[i], bounds[i + 1])
              for i in range(len(level_sizes))]
    levels = [ids[left[ids] >= 0] for ids in levels]   # internal nodes only
    size = np.ones(left.size, dtype=np.intp)
    for ids in reversed(levels):
        size[ids] += size[left[ids]] + size[right[ids]]
    pre = np.zeros(left.size, dtype=np.intp)
    for ids in levels:
        pre[left[ids]] = pre[ids] + 1
        pre[right[ids]] = pre[ids] + 1 + size[left[ids]]
    out = {}
    for key, arr in a.items():
        new = np.empty_like(arr)
        new[pre] = arr
        out[key] = new
    for key in ("left", "right"):
        out[key] = np.where(out[key] >= 0, pre[np.maximum(out[key], 0)], -1)
    return Tree(out["feature"], out["threshold"], out["left"], out["right"],
                out["value"], out["impurity"], out["n_samples"],
                len(level_sizes) - 1)
