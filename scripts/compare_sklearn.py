#!/usr/bin/env python3
"""webgpu-mlp's command with its defaults against scikit-learn on the same rows.

For penguins (species from the measurements, island and sex) and cars (miles per
gallon), both from the vega-datasets package, and each seed: the rows with a
missing value are dropped, then split 80/20 (stratified by species for
penguins) with scikit-learn's train_test_split; the training rows are written as
JSON for

    webgpu-mlp train train.json --target T [--ignore Name] --out model.safetensors
    webgpu-mlp evaluate model.safetensors test.json

(the command's defaults: standardised inputs, one hidden layer of 64 ReLU units,
Adam, its own stratified 20% validation split of the training rows for early
stopping with the best epoch restored), and scikit-learn fits

    make_pipeline(StandardScaler(), MLPClassifier / MLPRegressor(
        hidden_layer_sizes=(64,), max_iter=2000, random_state=seed))

on all the training rows (categories one-hot with pandas.get_dummies; its other
settings are its defaults: ReLU, Adam, lr 0.001, batch min(200, n), L2 1e-4, no
early stopping). Both are scored on the same test rows: accuracy, or R².

    npm run cli -- --help            # builds dist/cli/webgpu-mlp.js
    /usr/bin/python3 scripts/compare_sklearn.py [--seeds 5]

scikit-learn and pandas are tools here (Debian's python3-sklearn,
python3-pandas), never dependencies of the project.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "node_modules", "vega-datasets", "data")
CLI = os.path.join(ROOT, "dist", "cli", "webgpu-mlp.js")

TABLES = {
    "penguins": {"file": "penguins.json", "target": "Species", "ignore": [], "task": "classification"},
    "cars": {"file": "cars.json", "target": "Miles_per_Gallon", "ignore": ["Name"], "task": "regression"},
}


def cli(*args):
    started = time.perf_counter()
    run = subprocess.run(["node", CLI, *args], capture_output=True, text=True, cwd=ROOT)
    if run.returncode != 0:
        sys.exit(f"webgpu-mlp {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    return run.stdout, time.perf_counter() - started


def ours(spec, train, test, seed, work):
    train_file = os.path.join(work, "train.json")
    test_file = os.path.join(work, "test.json")
    model = os.path.join(work, "model.safetensors")
    for frame, path in ((train, train_file), (test, test_file)):
        with open(path, "w") as f:
            f.write(frame.to_json(orient="records"))
    args = ["train", train_file, "--target", spec["target"], "--out", model, "--seed", str(seed)]
    if spec["ignore"]:
        args += ["--ignore", ",".join(spec["ignore"])]
    trained, seconds = cli(*args)
    epochs = re.search(r"^trained +(\d+) epochs?", trained, re.M).group(1)
    out, _ = cli("evaluate", model, test_file, "--unknown-category", "ignore")  # penguins: one Sex "."
    if spec["task"] == "classification":
        score = float(re.search(r"^accuracy +([\d.]+)%", out, re.M).group(1)) / 100
    else:
        score = float(re.search(r"R² (-?[\d.]+)", out).group(1))
    return score, seconds, int(epochs)


def sklearn(spec, train, test, seed):
    columns = [c for c in train.columns if c != spec["target"] and c not in spec["ignore"]]
    both = pd.get_dummies(pd.concat([train[columns], test[columns]]), dtype=float)
    x_train, x_test = both.iloc[: len(train)], both.iloc[len(train):]
    y_train, y_test = train[spec["target"]], test[spec["target"]]
    make = MLPClassifier if spec["task"] == "classification" else MLPRegressor
    model = make_pipeline(StandardScaler(), make(hidden_layer_sizes=(64,), max_iter=2000, random_state=seed))
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    predicted = model.predict(x_test)
    if spec["task"] == "classification":
        return accuracy_score(y_test, predicted), seconds, converged
    return r2_score(y_test, predicted), seconds, converged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="splits (and seeds) per table (default 5)")
    args = parser.parse_args()
    if not os.path.exists(CLI):
        sys.exit(f"{CLI} is missing: build it with npm run cli -- --help")
    print("| table | seed | rows (train/test) | webgpu-mlp | epochs | time | scikit-learn | time |")
    print("|---|---|---|---|---|---|---|---|")
    summary = {}
    for name, spec in TABLES.items():
        with open(os.path.join(DATA, spec["file"])) as f:
            frame = pd.DataFrame(json.load(f))
        used = [c for c in frame.columns if c not in spec["ignore"]]
        frame = frame.dropna(subset=used).reset_index(drop=True)
        for seed in range(1, args.seeds + 1):
            stratify = frame[spec["target"]] if spec["task"] == "classification" else None
            train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=stratify)
            with tempfile.TemporaryDirectory() as work:
                mine, my_time, epochs = ours(spec, train, test, seed, work)
            theirs, their_time, converged = sklearn(spec, train, test, seed)
            summary.setdefault(name, []).append((mine, theirs))
            note = "" if converged else " (max_iter reached)"
            print(f"| {name} | {seed} | {len(train)}/{len(test)} | {mine:.4f} | {epochs} | {my_time:.1f} s | {theirs:.4f}{note} | {their_time:.1f} s |",
                  flush=True)
    print()
    for name, scores in summary.items():
        mine = np.mean([s[0] for s in scores])
        theirs = np.mean([s[1] for s in scores])
        what = "accuracy" if TABLES[name]["task"] == "classification" else "R²"
        print(f"{name}: mean {what} webgpu-mlp {mine:.4f}, scikit-learn {theirs:.4f}, "
              f"difference {100 * (mine - theirs):+.2f} points")


if __name__ == "__main__":
    main()
