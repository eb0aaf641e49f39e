"""TreeSHAP for scikit-learn's HistGradientBoosting, categorical splits included.

``shap.TreeExplainer`` reads a HistGradientBoosting model as if every split were a
threshold, so a model with native categorical features (which Assay trains
whenever a table has a label column) gets wrong values there. This module runs the
same algorithm (path-dependent TreeSHAP, Lundberg et al. 2018, Algorithm 2; a port
of ``shap/cext/tree_shap.h``) with the model's own routing rule: missing values and
unknown categories go where the model sends them, a category goes left when it is
in the split's bitset. On models without categorical splits the values equal
``shap.TreeExplainer``'s (tested).

>>> values, base = hgb_shap_values(model, X)        # doctest: +SKIP
>>> values.shape, base.shape                        # (n, outputs, features), (outputs,)
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["hgb_shap_values", "hgb_raw_output"]


class _Flat:
    """Every tree of a fitted model as flat node arrays (trees of output k, in order)."""

    def __init__(self, model):
        predictors = model._predictors  # list over iterations of lists over outputs
        self.n_outputs = len(predictors[0])
        baseline = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
        self.baseline = np.broadcast_to(baseline, (self.n_outputs,)).copy()
        mapper = model._bin_mapper
        known, f_idx_map = mapper.make_known_categories_bitsets()
        self.known = np.ascontiguousarray(known, dtype=np.uint32)
        self.f_idx_map = np.ascontiguousarray(f_idx_map, dtype=np.int64)
        parts = {k: [] for k in ("left", "right", "feature", "threshold", "missing_left", "is_cat", "bitset",
                                 "value", "cover")}
        bitsets, starts, outputs, depths = [], [], [], []
        offset = bit_offset = 0
        for iteration in predictors:
            for k, tree in enumerate(iteration):
                nodes = tree.nodes
                leaf = nodes["is_leaf"].astype(bool)
                parts["left"].append(np.where(leaf, -1, nodes["left"].astype(np.int64) + offset))
                parts["right"].append(np.where(leaf, -1, nodes["right"].astype(np.int64) + offset))
                parts["feature"].append(nodes["feature_idx"].astype(np.int64))
                parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
                parts["missing_left"].append(nodes["missing_go_to_left"].astype(np.bool_))
                parts["is_cat"].append(nodes["is_categorical"].astype(np.bool_))
                parts["bitset"].append(nodes["bitset_idx"].astype(np.int64) + bit_offset)
                parts["value"].append(nodes["value"].astype(np.float64))
                parts["cover"].append(nodes["count"].astype(np.float64))
                raw_bits = np.asarray(tree.raw_left_cat_bitsets, dtype=np.uint32).reshape(-1, 8)
                bitsets.append(raw_bits)
                starts.append(offset)
                outputs.append(k)
                depths.append(int(nodes["depth"].max()))
                offset += len(nodes)
                bit_offset += len(raw_bits)
        for key, arrays in parts.items():
            setattr(self, key, np.ascontiguousarray(np.concatenate(arrays)))
        self.bitsets = np.ascontiguousarray(np.concatenate(bitsets) if bitsets else np.zeros((0, 8), np.uint32))
        self.starts = np.asarray(starts, dtype=np.int64)
        self.outputs = np.asarray(outputs, dtype=np.int64)
        self.max_depth = max(depths) if depths else 0


def _matrix(model, X) -> np.ndarray:
    """The encoded rows as the float64 matrix the model predicts from."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != model.n_features_in_:
        raise ValueError(f"expected {model.n_features_in_} encoded columns, got shape {X.shape}")
    return np.ascontiguousarray(X)


def hgb_shap_values(model, X) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values ``(n, outputs, features)`` and base values ``(outputs,)`` in raw (margin) space.

    ``outputs`` is 1 for regression and binary classification (log-odds of the
    second class) and the number of classes for multiclass (one raw score per class).
    ``base + values.sum(axis=2)`` equals the model's raw output.
    """
    flat = _Flat(model)
    X = _matrix(model, X)
    n_features = X.shape[1]
    expected = _expectations(flat.left, flat.right, flat.value, flat.cover, flat.starts, flat.max_depth)
    base = flat.baseline.copy()
    for tree, k in enumerate(flat.outputs):
        base[k] += expected[tree]
    phi = np.zeros((X.shape[0], flat.n_outputs, n_features))
    _shap_rows(X, flat.left, flat.right, flat.feature, flat.threshold, flat.missing_left, flat.is_cat,
               flat.bitset, flat.bitsets, flat.known, flat.f_idx_map, flat.value, flat.cover, flat.starts,
               flat.outputs, flat.max_depth, phi)
    return phi, base


def hgb_raw_output(model, X) -> np.ndarray:
    """The raw output ``(n, outputs)`` computed by walking the trees here (a check of the routing)."""
    flat = _Flat(model)
    X = _matrix(model, X)
    out = np.tile(flat.baseline, (X.shape[0], 1))
    _predict_rows(X, flat.left, flat.right, flat.feature, flat.threshold, flat.missing_left, flat.is_cat,
                  flat.bitset, flat.bitsets, flat.known, flat.f_idx_map, flat.value, flat.starts, flat.outputs, out)
    return out


# --------------------------------------------------------------------------- compiled core


@njit(cache=True)
def _in_bitset(bits, row, category):
    return (bits[row, category >> 5] >> np.uint32(category & 31)) & np.uint32(1) == np.uint32(1)


@njit(cache=True)
def _goes_left(node, x, feature, threshold, missing_left, is_cat, bitset, bitsets, known, f_idx_map):
    """Where the model sends row ``x`` at ``node`` (mirrors scikit-learn's ``_predict_one_from_raw_data``)."""
    value = x[feature[node]]
    if np.isnan(value):
        return missing_left[node]
    if is_cat[node]:
        if value < 0 or value > 255:
            return missing_left[node]
        category = np.int64(value)
        if _in_bitset(bitsets, bitset[node], category):
            return True
        if _in_bitset(known, f_idx_map[feature[node]], category):
            return False
        return missing_left[node]  # an unknown category counts as missing
    return value <= threshold[node]


@njit(cache=True)
def _expectations(left, right, value, cover, starts, max_depth):
    """Each tree's expected output: leaves weighted by the training rows that reach them."""
    n_trees = len(starts)
    out = np.zeros(n_trees)
    for t in range(n_trees):
        stack = np.empty(max_depth + 2, dtype=np.int64)
        weights = np.empty(max_depth + 2)
        top = 0
        stack[0] = starts[t]
        weights[0] = 1.0
        total = 0.0
        while top >= 0:
            node = stack[top]
            w = weights[top]
            top -= 1
            if left[node] < 0:
                total += w * value[node]
            else:
                l, r = left[node], right[node]
                both = cover[l] + cover[r]
                top += 1
                stack[top] = l
                weights[top] = w * cover[l] / both
                top += 1
                stack[top] = r
                weights[top] = w * cover[r] / both
        out[t] = total
    return out


@njit(cache=True, parallel=True)
def _predict_rows(X, left, right, feature, threshold, missing_left, is_cat, bitset, bitsets, known, f_idx_map,
                  value, starts, outputs, out):
    for i in prange(X.shape[0]):
        x = X[i]
        for t in range(len(starts)):
            node = starts[t]
            while left[node] >= 0:
                if _goes_left(node, x, feature, threshold, missing_left, is_cat, bitset, bitsets, known, f_idx_map):
                    node = left[node]
                else:
                    node = right[node]
            out[i, outputs[t]] += value[node]


@njit(cache=True, parallel=True)
def _shap_rows(X, left, right, feature, threshold, missing_left, is_cat, bitset, bitsets, known, f_idx_map,
               value, cover, starts, outputs, max_depth, phi):
    maxd = max_depth + 3
    size = (maxd * (maxd + 1)) // 2 + maxd
    n_features = X.shape[1]
    for i in prange(X.shape[0]):
        x = X[i]
        path_feature = np.empty(size, dtype=np.int64)
        path_zero = np.empty(size)
        path_one = np.empty(size)
        path_weight = np.empty(size)
        cap = 2 * (max_depth + 2)
        s_node = np.empty(cap, dtype=np.int64)
        s_depth = np.empty(cap, dtype=np.int64)
        s_parent = np.empty(cap, dtype=np.int64)
        s_zero = np.empty(cap)
        s_one = np.empty(cap)
        s_feature = np.empty(cap, dtype=np.int64)
        row_phi = np.zeros(n_features)
        for t in range(len(starts)):
            row_phi[:] = 0.0
            _tree_shap(starts[t], x, left, right, feature, threshold, missing_left, is_cat, bitset, bitsets,
                       known, f_idx_map, value, cover, row_phi, path_feature, path_zero, path_one, path_weight,
                       s_node, s_depth, s_parent, s_zero, s_one, s_feature)
            phi[i, outputs[t], :] += row_phi


@njit(cache=True)
def _extend(pf, pz, po, pw, base, depth, zero, one, feat):
    pf[base + depth] = feat
    pz[base + depth] = zero
    po[base + depth] = one
    pw[base + depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        pw[base + i + 1] += one * pw[base + i] * (i + 1) / (depth + 1)
        pw[base + i] = zero * pw[base + i] * (depth - i) / (depth + 1)


@njit(cache=True)
def _unwind(pf, pz, po, pw, base, depth, index):
    one = po[base + index]
    zero = pz[base + index]
    next_one = pw[base + depth]
    for i in range(depth - 1, -1, -1):
        if one != 0:
            tmp = pw[base + i]
            pw[base + i] = next_one * (depth + 1) / ((i + 1) * one)
            next_one = tmp - pw[base + i] * zero * (depth - i) / (depth + 1)
        else:
            pw[base + i] = pw[base + i] * (depth + 1) / (zero * (depth - i))
    for i in range(index, depth):
        pf[base + i] = pf[base + i + 1]
        pz[base + i] = pz[base + i + 1]
        po[base + i] = po[base + i + 1]


@njit(cache=True)
def _unwound_sum(pz, po, pw, base, depth, index):
    one = po[base + index]
    zero = pz[base + index]
    next_one = pw[base + depth]
    total = 0.0
    if one != 0:
        for i in range(depth - 1, -1, -1):
            tmp = next_one / ((i + 1) * one)
            total += tmp
            next_one = pw[base + i] - tmp * zero * (depth - i)
    else:
        for i in range(depth - 1, -1, -1):
            total += pw[base + i] / (zero * (depth - i))
    return total * (depth + 1)


@njit(cache=True)
def _tree_shap(root, x, left, right, feature, threshold, missing_left, is_cat, bitset, bitsets, known, f_idx_map,
               value, cover, phi, pf, pz, po, pw, s_node, s_depth, s_parent, s_zero, s_one, s_feature):
    """One tree's SHAP values for row ``x``, added to ``phi``.

    The recursion of the reference implementation, run on an explicit stack (numba
    cannot cache recursive functions safely). A frame's path lives at ``base`` in the
    path arrays; its children write only past it, so the cold child still finds its
    parent's path intact after the hot child's whole subtree.
    """
    top = 0
    s_node[0], s_depth[0], s_parent[0], s_zero[0], s_one[0], s_feature[0] = root, 0, 0, 1.0, 1.0, -1
    while top >= 0:
        node, depth, parent_base = s_node[top], s_depth[top], s_parent[top]
        parent_zero, parent_one, parent_feature = s_zero[top], s_one[top], s_feature[top]
        top -= 1
        base = parent_base + depth + 1
        for i in range(depth + 1):
            pf[base + i] = pf[parent_base + i]
            pz[base + i] = pz[parent_base + i]
            po[base + i] = po[parent_base + i]
            pw[base + i] = pw[parent_base + i]
        _extend(pf, pz, po, pw, base, depth, parent_zero, parent_one, parent_feature)
        if left[node] < 0:
            for i in range(1, depth + 1):
                w = _unwound_sum(pz, po, pw, base, depth, i)
                phi[pf[base + i]] += w * (po[base + i] - pz[base + i]) * value[node]
            continue
        split = feature[node]
        if _goes_left(node, x, feature, threshold, missing_left, is_cat, bitset, bitsets, known, f_idx_map):
            hot, cold = left[node], right[node]
        else:
            hot, cold = right[node], left[node]
        w = cover[node]
        incoming_zero = 1.0
        incoming_one = 1.0
        index = 0
        while index <= depth:
            if pf[base + index] == split:
                break
            index += 1
        if index != depth + 1:
            incoming_zero = pz[base + index]
            incoming_one = po[base + index]
            _unwind(pf, pz, po, pw, base, depth, index)
            depth -= 1
        top += 1
        s_node[top], s_depth[top], s_parent[top] = cold, depth + 1, base
        s_zero[top], s_one[top], s_feature[top] = cover[cold] / w * incoming_zero, 0.0, split
        top += 1
        s_node[top], s_depth[top], s_parent[top] = hot, depth + 1, base
        s_zero[top], s_one[top], s_feature[top] = cover[hot] / w * incoming_zero, incoming_one, split
