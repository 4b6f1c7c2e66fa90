"""CART tree growth and the array-based ``Tree`` it produces.

Split search is vectorised over the samples and candidate features of a
node: sort each feature column once and score every threshold at the same
time from cumulative sums. For classification the sums avoid a
(samples x features x classes) count array: moving the r-th sample of
class c (in sorted order) into the left child raises sum_c n_c^2 by 2r + 1
(and sum_c n_c log n_c by (r+1)log(r+1) - r log r), so each impurity is a
cumulative sum over a (samples x features) array of per-sample increments.
The Python loop runs over nodes only; prediction loops over depth levels.
"""
from __future__ import annotations

import numpy as np

FEATURE_THRESHOLD = 1e-7   # two values closer than this are not split apart
_BLOCK = 1 << 21           # max elements per (samples, features) block


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


def _xlogx(n: int) -> np.ndarray:
    """Table of r * log(r) for r = 0..n (0 log 0 = 0)."""
    r = np.arange(n + 1, dtype=np.float64)
    out = np.zeros(n + 1)
    out[1:] = r[1:] * np.log(r[1:])
    return out


def _class_scores(yo: np.ndarray, counts: np.ndarray, criterion: str,
                  nl: np.ndarray, nr: np.ndarray, xlogx: np.ndarray):
    """Split scores (higher is better) for every threshold position.

    yo: (m, k) labels of the node's samples, each column sorted by its
    feature; counts: (C,) class counts of the node. Returns (m-1, k).
    """
    m = yo.shape[0]
    # rank[i, j]: how many samples of class yo[i, j] precede row i in column j
    by_class = np.argsort(yo, axis=0, kind="stable")
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank_sorted = np.arange(m) - np.repeat(start, counts)
    rank = np.empty_like(yo)
    rank[by_class, np.arange(yo.shape[1])] = rank_sorted[:, None]
    remaining = counts[yo] - rank          # class count still on the right
    if criterion == "gini":
        # maximise sum(l_c^2)/n_l + sum(r_c^2)/n_r == minimise weighted gini
        sq_l = np.cumsum(2 * rank + 1, axis=0)[:-1]
        sq_r = counts @ counts - np.cumsum(2 * remaining - 1, axis=0)[:-1]
        return sq_l / nl + sq_r / nr
    # entropy: n H = n log n - sum_c n_c log n_c, for both children
    ent_l = np.cumsum(xlogx[rank + 1] - xlogx[rank], axis=0)[:-1]
    ent_r = xlogx[counts].sum() + np.cumsum(
        xlogx[remaining - 1] - xlogx[remaining], axis=0)[:-1]
    return ent_l + ent_r - nl * np.log(nl) - nr * np.log(nr)


def _best_split(Xn: np.ndarray, tn: np.ndarray, counts, criterion: str,
                min_samples_leaf: int, xlogx):
    """Best threshold over the columns of Xn (m, k).

    tn: (m,) integer labels (``counts`` their class counts) or, when
    ``counts`` is None, float regression targets.
    Returns (column, threshold) or None if no split is valid.
    """
    m, k = Xn.shape
    cols_per_block = max(1, _BLOCK // m)
    nl = np.arange(1, m, dtype=np.float64)[:, None]
    nr = m - nl
    leaf_ok = None
    if min_samples_leaf > 1:
        leaf_ok = (nl >= min_samples_leaf) & (nr >= min_samples_leaf)
    best = None  # (score, column, threshold)
    for start in range(0, k, cols_per_block):
        Xf = Xn[:, start:start + cols_per_block]
        kb = Xf.shape[1]
        order = np.argsort(Xf, axis=0)
        Xs = Xf[order, np.arange(kb)]
        valid = Xs[1:] > Xs[:-1] + FEATURE_THRESHOLD          # (m-1, kb)
        if leaf_ok is not None:
            valid &= leaf_ok
        if not valid.any():
            continue
        if counts is None:                                    # regression
            cum = np.cumsum(tn[order], axis=0)[:-1]
            right = tn.sum() - cum
            score = cum * cum / nl + right * right / nr
        else:
            score = _class_scores(tn[order], counts, criterion, nl, nr, xlogx)
        score[~valid] = -np.inf
        # ties: first column in the (random) feature order, then first row
        col, pos = divmod(int(np.argmax(score.T)), m - 1)
        if best is None or score[pos, col] > best[0] + 1e-12 * abs(best[0]):
            lo, hi = Xs[pos, col], Xs[pos + 1, col]
            thr = (lo + hi) / 2.0
            if thr >= hi or thr == np.inf:
                thr = lo
            best = (score[pos, col], start + col, thr)
    return None if best is None else best[1:]


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


def _node_stats(y: np.ndarray, n_classes, criterion: str, rows):
    """(statistics, impurity, value) of the node holding samples ``rows``."""
    t = y[rows]
    if n_classes is None:
        mean = float(t.mean())
        return None, float(t.var()), np.array([mean])
    counts = np.bincount(t, minlength=n_classes)
    p = counts / t.size
    if criterion == "gini":
        return counts, 1.0 - float(p @ p), p
    nz = p[p > 0]
    return counts, -float(nz @ np.log2(nz)), p


def grow_tree(X: np.ndarray, y: np.ndarray, n_classes, criterion: str,
              max_depth, min_samples_split: int, min_samples_leaf: int,
              max_features: int, min_impurity_decrease: float,
              rng: np.random.Generator) -> tuple[Tree, np.ndarray]:
    """Grow a CART tree depth first.

    X: (n, d); y: (n,) labels in 0..n_classes-1 for classification, or
    float targets with ``n_classes=None`` for regression (squared error).
    Returns (tree, per-feature total impurity decrease (d,)).
    The loop runs once per node; all work inside it is vectorised.
    """
    n, d = X.shape
    max_depth = np.inf if max_depth is None else max_depth
    xlogx = _xlogx(n + 1) if criterion == "entropy" else None
    feature, threshold, left, right = [], [], [], []
    value, impurity, n_samples = [], [], []
    importances = np.zeros(d)
    depth_reached = 0
    batch = d if max_features >= d else min(d, max(2 * max_features,
                                                   max_features + 8))
    all_rows = np.arange(n)
    # stack entries: (rows, depth, parent id, is_left, (stats, impurity, value))
    stack = [(all_rows, 0, -1, False,
              _node_stats(y, n_classes, criterion, all_rows))]
    while stack:
        idx, depth, parent, is_left, (counts, imp, val) = stack.pop()
        node_id = len(feature)
        if parent >= 0:
            (left if is_left else right)[parent] = node_id
        depth_reached = max(depth_reached, depth)
        m = idx.size
        feature.append(-1); threshold.append(-2.0)
        left.append(-1); right.append(-1)
        value.append(val); impurity.append(imp); n_samples.append(m)
        if (depth >= max_depth or m < min_samples_split
                or m < 2 * min_samples_leaf or imp <= 1e-12):
            continue
        # draw features until max_features non-constant ones are found
        perm = rng.permutation(d)   # random order also breaks score ties
        cand, Xn, taken, found_n = [], [], 0, 0
        while taken < d and found_n < max_features:
            feats = perm[taken:taken + (batch if taken == 0 else d)]
            taken += feats.size
            block = X[idx[:, None], feats]
            keep = np.flatnonzero(block.max(axis=0)
                                  > block.min(axis=0) + FEATURE_THRESHOLD)
            keep = keep[:max_features - found_n]
            found_n += keep.size
            cand.append(feats[keep]); Xn.append(block[:, keep])
        if found_n == 0:
            continue
        cand = cand[0] if len(cand) == 1 else np.concatenate(cand)
        Xn = Xn[0] if len(Xn) == 1 else np.hstack(Xn)
        found = _best_split(Xn, y[idx], counts, criterion, min_samples_leaf,
                            xlogx)
        if found is None:
            continue
        col, thr = found
        go_left = Xn[:, col] <= thr
        li, ri = idx[go_left], idx[~go_left]
        node_l = _node_stats(y, n_classes, criterion, li)
        node_r = _node_stats(y, n_classes, criterion, ri)
        decrease = (m * imp - li.size * node_l[1] - ri.size * node_r[1]) / n
        if decrease < min_impurity_decrease:
            continue
        f = int(cand[col])
        importances[f] += decrease
        feature[node_id] = f
        threshold[node_id] = thr
        stack.append((ri, depth + 1, node_id, False, node_r))
        stack.append((li, depth + 1, node_id, True, node_l))
    tree = Tree(feature, threshold, left, right, np.vstack(value), impurity,
                n_samples, depth_reached)
    return tree, importances
