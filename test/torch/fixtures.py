"""PyTorch's own numbers for the definitions we say we match, written to fixtures.json.

The tests (test/optim/rmsprop.test.ts, test/model/torch.test.ts) read fixtures.json and compare our
Float64 reference and GPU kernels with it, so CI checks against PyTorch without installing it.
test/torch/fixtures.test.ts runs this script again where torch is installed and checks that the
file is what it writes. Regenerate after changing a case:

    /usr/bin/python3 test/torch/fixtures.py   # Debian's python3 with python3-torch

Every case records its inputs, so the tests need nothing but the JSON. Values are float64 (torch
in double precision) unless a key says f32 (torch in float32, what the GPU is compared with).
"""
import json
import os
import re
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def values(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def rmsprop_case(name, n, steps, seed, **settings):
    """Steps of torch.optim.RMSprop on one parameter tensor of n values, each with its gradient."""
    rng = np.random.RandomState(seed)
    w0 = rng.uniform(-1, 1, n)
    grads = [rng.uniform(-1, 1, n) for _ in range(steps)]
    grads[0][0] = 0.0  # an exact zero gradient
    out = {"name": name, "settings": settings, "w0": list(w0), "grads": [list(g) for g in grads]}
    for dtype, key in ((torch.float64, "f64"), (torch.float32, "f32")):
        w = torch.tensor(w0, dtype=dtype, requires_grad=True)
        opt = torch.optim.RMSprop(
            [w],
            lr=settings["lr"],
            alpha=settings["alpha"],
            eps=settings["eps"],
            weight_decay=settings["weightDecay"],
            momentum=settings["momentum"],
            centered=settings["centered"],
        )
        for g in grads:
            w.grad = torch.tensor(g, dtype=dtype)
            opt.step()
        state = opt.state[w]
        # torch keeps momentum_buffer only with momentum, grad_avg only when centered: null otherwise
        out[key] = {"w": values(w)} | {
            k: values(state[k]) if k in state else None for k in ("square_avg", "momentum_buffer", "grad_avg")
        }
    return out


def layer_norm_case(name, rows, cols, seed, eps=1e-5):
    """torch.nn.functional.layer_norm over the last dimension, forward and backward (L = sum(y * R))."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(-3, 3, (rows, cols))
    gamma = rng.uniform(0.5, 1.5, cols)
    beta = rng.uniform(-1, 1, cols)
    dy = rng.uniform(-1, 1, (rows, cols))
    out = {"name": name, "rows": rows, "cols": cols, "eps": eps,
           "x": values(torch.tensor(x)), "gamma": list(gamma), "beta": list(beta), "dy": values(torch.tensor(dy))}
    for dtype, key in ((torch.float64, "f64"), (torch.float32, "f32")):
        tx = torch.tensor(x, dtype=dtype, requires_grad=True)
        tg = torch.tensor(gamma, dtype=dtype, requires_grad=True)
        tb = torch.tensor(beta, dtype=dtype, requires_grad=True)
        y = torch.nn.functional.layer_norm(tx, (cols,), tg, tb, eps)
        y.backward(torch.tensor(dy, dtype=dtype))
        out[key] = {"y": values(y), "dx": values(tx.grad), "dgamma": values(tg.grad), "dbeta": values(tb.grad)}
    return out


def batch_norm_case(name, rows, cols, seed, eps=1e-5, momentum=0.1):
    """torch.nn.BatchNorm1d: one training step (forward, running statistics, backward), then evaluation."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(-3, 3, (rows, cols)) + np.arange(cols) % 5
    gamma = rng.uniform(0.5, 1.5, cols)
    beta = rng.uniform(-1, 1, cols)
    mean0 = rng.uniform(-1, 1, cols)
    var0 = rng.uniform(0.5, 2, cols)
    dy = rng.uniform(-1, 1, (rows, cols))
    out = {"name": name, "rows": rows, "cols": cols, "eps": eps, "momentum": momentum,
           "x": values(torch.tensor(x)), "gamma": list(gamma), "beta": list(beta),
           "runningMean": list(mean0), "runningVar": list(var0), "dy": values(torch.tensor(dy))}
    for dtype, key in ((torch.float64, "f64"), (torch.float32, "f32")):
        bn = torch.nn.BatchNorm1d(cols, eps=eps, momentum=momentum).to(dtype)
        with torch.no_grad():
            bn.weight.copy_(torch.tensor(gamma))
            bn.bias.copy_(torch.tensor(beta))
            bn.running_mean.copy_(torch.tensor(mean0))
            bn.running_var.copy_(torch.tensor(var0))
        tx = torch.tensor(x, dtype=dtype, requires_grad=True)
        y = bn.train()(tx)
        y.backward(torch.tensor(dy, dtype=dtype))
        with torch.no_grad():
            y_eval = bn.eval()(torch.tensor(x, dtype=dtype))
        out[key] = {
            "y": values(y), "dx": values(tx.grad), "dgamma": values(bn.weight.grad), "dbeta": values(bn.bias.grad),
            "runningMean": values(bn.running_mean), "runningVar": values(bn.running_var), "yEval": values(y_eval),
        }
    return out


def dropout_case(name, rows, cols, p, seed):
    """torch.nn.Dropout(p) in training mode, forward and backward (L = sum(y * dy)), and in evaluation.

    torch draws the mask from its own generator; the mask is where its output is not 0 (no input is 0),
    so the tests can apply our map with torch's mask and compare.
    """
    rng = np.random.RandomState(seed)
    x = rng.uniform(0.1, 3, (rows, cols)) * rng.choice([-1, 1], (rows, cols))
    dy = rng.uniform(-1, 1, (rows, cols))
    out = {"name": name, "rows": rows, "cols": cols, "p": p, "x": values(torch.tensor(x)), "dy": values(torch.tensor(dy))}
    for dtype, key in ((torch.float64, "f64"), (torch.float32, "f32")):
        torch.manual_seed(seed)
        drop = torch.nn.Dropout(p)
        tx = torch.tensor(x, dtype=dtype, requires_grad=True)
        y = drop.train()(tx)
        y.backward(torch.tensor(dy, dtype=dtype))
        with torch.no_grad():
            y_eval = drop.eval()(torch.tensor(x, dtype=dtype))
        out[key] = {"y": values(y), "dx": values(tx.grad), "yEval": values(y_eval)}
    return out


def main():
    torch.manual_seed(0)
    fixtures = {
        "torch": torch.__version__,
        "rmsprop": [
            rmsprop_case("defaults", 13, 5, 1, lr=0.01, alpha=0.99, eps=1e-8, weightDecay=0.0, momentum=0.0, centered=False),
            rmsprop_case("momentum 0.9, weight decay 0.1", 13, 5, 2, lr=0.01, alpha=0.9, eps=1e-8, weightDecay=0.1, momentum=0.9, centered=False),
            rmsprop_case("centered", 13, 5, 3, lr=0.01, alpha=0.9, eps=1e-6, weightDecay=0.0, momentum=0.0, centered=True),
            rmsprop_case("centered, momentum 0.5, weight decay 0.01", 16, 6, 4, lr=0.003, alpha=0.95, eps=1e-8, weightDecay=0.01, momentum=0.5, centered=True),
        ],
        "layerNorm": [
            layer_norm_case("[5, 7]", 5, 7, 11),
            layer_norm_case("[3, 64], eps 1e-3", 3, 64, 12, eps=1e-3),
            layer_norm_case("[65, 1]", 65, 1, 13),
        ],
        "batchNorm": [
            batch_norm_case("[8, 6]", 8, 6, 21),
            batch_norm_case("[2, 5], momentum 0.3", 2, 5, 22, momentum=0.3),
            batch_norm_case("[65, 3], eps 1e-3", 65, 3, 23, eps=1e-3),
        ],
        "dropout": [
            dropout_case("[6, 7], p 0.3", 6, 7, 0.3, 31),
            dropout_case("[65, 3], p 0.5", 65, 3, 0.5, 32),
            dropout_case("[4, 1031], p 0.1", 4, 1031, 0.1, 33),
        ],
    }
    text = json.dumps(fixtures, indent=1, sort_keys=True) + "\n"
    # one line per array of numbers
    text = re.sub(r"\[\s*([-+0-9.eE,\s]+?)\s*\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
    if len(sys.argv) > 1 and sys.argv[1] == "--stdout":
        sys.stdout.write(text)
    else:
        with open(os.path.join(HERE, "fixtures.json"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
