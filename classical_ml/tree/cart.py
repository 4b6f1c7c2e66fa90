"""CART tree growth and the array-based ``Tree`` it produces.

Split search is vectorised over the samples and candidate features of a
node: sort each feature column once, take cumulative class counts (or
target sums), and score every threshold at the same time. The Python loop
runs over nodes only; prediction loops over depth levels, not samples.
"""
from __future__ import annotations

import numpy as np

FEATURE_THRESHOLD = 1e-7   # two values closer than this are not split apart
_BLOCK = 1 << 22           # max elements per (samples, features, classes) block


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


def _impurity_from_counts(counts: np.ndarray, n: np.ndarray,
                          criterion: str) -> np.ndarray:
    """counts (..., C), n (...,) broadcastable -> gini or entropy (...)."""
    p = counts / np.maximum(n, 1e-300)[..., None]
    if criterion == "gini":
        return 1.0 - np.sum(p * p, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -np.sum(plogp, axis=-1)


def _best_split(Xn: np.ndarray, target: np.ndarray, criterion: str,
                min_samples_leaf: int):
    """Best threshold over the columns of Xn (m, k).

    target: one-hot (m, C) for classification or (m,) values for regression.
    Returns (column, threshold, left_mask, proxy gain) or None if no split.
    """
    m, k = Xn.shape
    per_col = m * (target.shape[1] if target.ndim == 2 else 2)
    cols_per_block = max(1, _BLOCK // max(per_col, 1))
    best = None  # (score, col, pos)
    for start in range(0, k, cols_per_block):
        sl = slice(start, min(k, start + cols_per_block))
        Xf = Xn[:, sl]
        order = np.argsort(Xf, axis=0, kind="stable")
        Xs = np.take_along_axis(Xf, order, axis=0)
        valid = Xs[1:] > Xs[:-1] + FEATURE_THRESHOLD          # (m-1, kb)
        nl = np.arange(1, m, dtype=np.float64)[:, None]
        nr = m - nl
        if min_samples_leaf > 1:
            valid &= (nl >= min_samples_leaf) & (nr >= min_samples_leaf)
        if not valid.any():
            continue
        if target.ndim == 2:                                  # classification
            cl = np.cumsum(target[order], axis=0)[:-1]        # (m-1, kb, C)
            cr = target.sum(axis=0) - cl
            if criterion == "gini":
                # maximise sum(cl^2)/nl + sum(cr^2)/nr  == minimise weighted gini
                score = (np.einsum("ijc,ijc->ij", cl, cl) / nl
                         + np.einsum("ijc,ijc->ij", cr, cr) / nr)
            else:
                score = -(nl * _impurity_from_counts(cl, nl, criterion)
                          + nr * _impurity_from_counts(cr, nr, criterion))
        else:                                                 # regression
            sl_sum = np.cumsum(target[order], axis=0)[:-1]    # (m-1, kb)
            sr_sum = target.sum() - sl_sum
            score = sl_sum ** 2 / nl + sr_sum ** 2 / nr
        score = np.where(valid, score, -np.inf)
        flat = int(np.argmax(score))
        pos, col = divmod(flat, score.shape[1])
        if best is None or score[pos, col] > best[0] + 1e-12 * abs(best[0]):
            lo, hi = Xs[pos, col], Xs[pos + 1, col]
            best = (score[pos, col], start + col, lo, hi)
    if best is None:
        return None
    _, col, lo, hi = best
    thr = (lo + hi) / 2.0
    if thr >= hi or thr == np.inf:
        thr = lo
    return col, thr


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


def grow_tree(X: np.ndarray, target: np.ndarray, criterion: str,
              max_depth, min_samples_split: int, min_samples_leaf: int,
              max_features: int, min_impurity_decrease: float,
              rng: np.random.Generator) -> tuple[Tree, np.ndarray]:
    """Grow a CART tree depth first.

    X: (n, d); target: one-hot (n, C) for classification, (n,) for
    regression. Returns (tree, per-feature total impurity decrease (d,)).
    """
    n, d = X.shape
    is_clf = target.ndim == 2
    max_depth = np.inf if max_depth is None else max_depth
    feature, threshold, left, right = [], [], [], []
    value, impurity, n_samples = [], [], []
    importances = np.zeros(d)
    depth_reached = 0
    # stack entries: (sample indices, depth, parent id, is_left)
    stack = [(np.arange(n), 0, -1, False)]
    while stack:
        idx, depth, parent, is_left = stack.pop()
        node_id = len(feature)
        if parent >= 0:
            (left if is_left else right)[parent] = node_id
        depth_reached = max(depth_reached, depth)
        m = idx.size
        tn = target[idx]
        if is_clf:
            counts = tn.sum(axis=0)
            imp = float(_impurity_from_counts(counts, np.float64(m),
                                              criterion))
            val = counts / m
        else:
            mean = tn.mean()
            imp = float(np.mean((tn - mean) ** 2))
            val = np.array([mean])
        feature.append(-1); threshold.append(-2.0)
        left.append(-1); right.append(-1)
        value.append(val); impurity.append(imp); n_samples.append(m)
        if (depth >= max_depth or m < min_samples_split
                or m < 2 * min_samples_leaf or imp <= 1e-12):
            continue
        Xn = X[idx]
        nonconst = Xn.max(axis=0) > Xn.min(axis=0) + FEATURE_THRESHOLD
        if max_features < d:
            perm = rng.permutation(d)
            cand = perm[nonconst[perm]][:max_features]
        else:
            cand = np.flatnonzero(nonconst)
        if cand.size == 0:
            continue
        found = _best_split(Xn[:, cand], tn, criterion, min_samples_leaf)
        if found is None:
            continue
        col, thr = found
        f = int(cand[col])
        go_left = Xn[:, f] <= thr
        li, ri = idx[go_left], idx[~go_left]
        if is_clf:
            imp_l = float(_impurity_from_counts(target[li].sum(0),
                                                np.float64(li.size), criterion))
            imp_r = float(_impurity_from_counts(target[ri].sum(0),
                                                np.float64(ri.size), criterion))
        else:
            imp_l, imp_r = float(target[li].var()), float(target[ri].var())
        decrease = (m * imp - li.size * imp_l - ri.size * imp_r) / n
        if decrease < min_impurity_decrease:
            continue
        importances[f] += decrease
        feature[node_id] = f
        threshold[node_id] = thr
        stack.append((ri, depth + 1, node_id, False))
        stack.append((li, depth + 1, node_id, True))
    tree = Tree(feature, threshold, left, right, np.vstack(value), impurity,
                n_samples, depth_reached)
    return tree, importances
