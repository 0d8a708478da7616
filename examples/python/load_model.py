#!/usr/bin/env python3
"""Run a network saved by webgpu-mlp (mlp.save(), npm run train) in NumPy.

    python3 -m pip install numpy safetensors        # torch is optional
    python3 load_model.py model.safetensors inputs.npy
    python3 load_model.py model.safetensors inputs.npy --out predictions.npy
    python3 load_model.py penguins.safetensors rows.csv --out predictions.json

inputs.npy holds raw inputs [count, D] as the network was trained on them
(pixels 0..255 when it was trained on bytes: the file's inputScale is applied
here). A network trained on a table (webgpu-mlp train, mlp.fit(data)) also
takes its rows by column name, as a CSV file or JSON rows: its preprocessing
(scaling, one-hot categories, imputation, unscaled outputs) is applied here
as the library applies it. The predictions are what mlp.predict returns.
When torch is installed, the network is also built as a torch.nn.Sequential,
and the two compared.
"""
import argparse
import csv
import json
import math
import re
import sys

import numpy as np
from safetensors import safe_open

FORMAT = "webgpu-mlp/1"


# region load
def load_model(path):
    """The architecture, input scale and parameters of a webgpu-mlp file.

    Tensors: layers.{i}.weight [out, in] (as torch.nn.Linear) and
    layers.{i}.bias [out], float32; a hidden layer with a norm adds
    layers.{i}.norm.weight and .bias [out] (and BatchNorm its
    .running_mean and .running_var). Metadata: format "webgpu-mlp/1"; spec,
    the architecture as JSON {"layers", "activations", "head"} and, when
    some hidden layer has them, "norms" and "dropouts"; inputScale (1/255)
    when the network was trained on bytes. Returns one dict per layer.
    """
    try:
        with safe_open(path, framework="np") as f:
            meta = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except OSError:
        raise  # no such file, no permission: as they are
    except Exception as error:  # safetensors' own errors: not safetensors
        raise ValueError(f"{path}: not a safetensors file ({error})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{path}: metadata format is {json.dumps(meta.get('format'))}, "
            f'expected "{FORMAT}" (a file saved by webgpu-mlp)'
        )
    spec = json.loads(meta["spec"])
    widths = spec["layers"]
    hidden = len(widths) - 2
    norms = spec.get("norms") or [None] * hidden
    dropouts = spec.get("dropouts") or [0] * hidden
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        layer = {"weight": [fan_out, fan_in], "bias": [fan_out]}
        norm = norms[i] if i < hidden else None
        if norm is not None:
            layer["norm.weight"] = layer["norm.bias"] = [fan_out]
            if name_and_params(norm)[0] == "batch":
                layer["norm.running_mean"] = [fan_out]
                layer["norm.running_var"] = [fan_out]
        for key, shape in list(layer.items()):
            t = tensors.get(f"layers.{i}.{key}")
            if t is None or list(t.shape) != shape:
                raise ValueError(
                    f"{path}: layer {i} needs layers.{i}.{key} {shape}"
                )
            layer[key] = t
        layer["norm"] = norm
        layer["dropout"] = dropouts[i] if i < hidden else 0
        layers.append(layer)
    scale = float(meta.get("inputScale", 1))
    return spec, scale, layers


def name_and_params(entry):
    """An activation, head or norm of the spec: "relu", or {"name": ..., params}."""
    if isinstance(entry, str):
        return entry, {}
    return entry["name"], {k: v for k, v in entry.items() if k != "name"}
# endregion


# region numpy
def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))  # 1/(1 + e^-z), without overflow


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def gelu(z):  # the tanh approximation, as torch.nn.GELU(approximate="tanh")
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))


# Hidden activations, with their parameters p (the last layer is linear).
ACTIVATIONS = {
    "relu": lambda z, p: np.maximum(z, 0.0),
    "leakyRelu": lambda z, p: np.where(z > 0, z, p.get("slope", 0.01) * z),
    "gelu": lambda z, p: gelu(z),
    "tanh": lambda z, p: np.tanh(z),
    "sigmoid": lambda z, p: sigmoid(z),
    "linear": lambda z, p: z,
}

# What predict returns from the last layer's outputs z.
HEADS = {
    "softmax": softmax,  # probabilities over classes (argmax: the class)
    "sigmoid": sigmoid,  # a probability per output (binary, multi-label)
    "mse": lambda z: z,  # regression: the outputs themselves
    "huber": lambda z: z,
}


def norm_numpy(layer, z):
    """A hidden layer's norm in evaluation: LayerNorm over the row, BatchNorm1d
    with its running statistics; then γ·x̂ + β. (Dropout: none in evaluation.)"""
    name, params = name_and_params(layer["norm"])
    eps = params.get("eps", 1e-5)
    if name == "layer":  # torch.nn.LayerNorm: the row's mean, biased variance
        mean = z.mean(axis=1, keepdims=True)
        var = ((z - mean) ** 2).mean(axis=1, keepdims=True)
    else:  # torch.nn.BatchNorm1d in eval mode
        mean = layer["norm.running_mean"].astype(np.float64)
        var = layer["norm.running_var"].astype(np.float64)
    x_hat = (z - mean) / np.sqrt(var + eps)
    return layer["norm.weight"] * x_hat + layer["norm.bias"]


def predict_numpy(spec, scale, layers, x):
    """mlp.predict in float64: z = a·Wᵀ + b per layer, W being [out, in];
    then a hidden layer's norm, its activation (dropout is off)."""
    a = np.asarray(x, dtype=np.float64) * scale
    for i, layer in enumerate(layers):
        z = a @ layer["weight"].T.astype(np.float64) + layer["bias"]
        if i < len(layers) - 1:
            if layer["norm"] is not None:
                z = norm_numpy(layer, z)
            name, params = name_and_params(spec["activations"][i])
            a = ACTIVATIONS[name](z, params)
        else:
            a = z
    return HEADS[name_and_params(spec["head"])[0]](a)
# endregion


# region table
MISSING = {"", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None"}
NUMBER = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")


def cell_number(cell):
    """A cell as a number (None when missing), as the library reads it."""
    if cell is None or isinstance(cell, bool):
        return None if cell is None else float("nan")
    if isinstance(cell, (int, float)):
        return float(cell)
    if cell in MISSING:
        return None
    return float(cell) if NUMBER.match(cell) else float("nan")


def cell_category(cell):
    """A cell as a category (None when missing): numbers as JavaScript writes them."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, (int, float)) or NUMBER.match(cell):
        if isinstance(cell, str) and cell in MISSING:
            return None
        v = float(cell)
        return str(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v)
    return None if cell in MISSING else cell


def encode_rows(pre, rows):
    """Raw inputs [count, D] of row dicts: numbers as they are, categories
    one-hot over the file's lists, missing cells imputed (when trained so)."""
    out = []
    for r, row in enumerate(rows):
        x = []
        for col in pre["inputs"]:
            name = col["name"]
            if name not in row:
                raise ValueError(f"row {r}: no column {json.dumps(name)}")
            if col["type"] == "numeric":
                v = cell_number(row[name])
                if v is None:
                    v = col.get("impute")
                if v is None or math.isnan(v):
                    raise ValueError(f"row {r}: {json.dumps(name)} has no number")
                x.append(v)
            else:
                k = cell_category(row[name])
                if k is None:
                    k = col.get("impute")
                if k not in col["categories"]:
                    raise ValueError(f"row {r}: {json.dumps(name)} is {json.dumps(k)}, "
                                     f"not one of {col['categories']}")
                x.extend(1.0 if c == k else 0.0 for c in col["categories"])
        out.append(x)
    return np.array(out, dtype=np.float64)


def input_affine(pre):
    """x' = x·scale + shift per input, float32, as the GPU applies it."""
    scale, shift = [], []
    for col in pre["inputs"]:
        if col["type"] == "categorical":
            scale += [1.0] * len(col["categories"])
            shift += [0.0] * len(col["categories"])
        elif col["scaling"] == "standardize":
            s = 1 / col["std"] if col["std"] > 0 else 1.0
            scale.append(s)
            shift.append(-col["mean"] * s)
        elif col["scaling"] == "minmax":
            span = col["max"] - col["min"]
            s = 1 / span if span > 0 else 1.0
            scale.append(s)
            shift.append(-col["min"] * s)
        else:
            scale.append(1.0)
            shift.append(0.0)
    return np.float32(scale), np.float32(shift)


def output_affine(pre):
    """y = z·std + mean per output (regression), float32; None for classes."""
    t = pre["target"]
    if t["type"] != "regression":
        return None
    return np.float32(t["std"]), np.float32(t["mean"])


def predict_rows(spec, layers, pre, rows):
    """mlp.predict on named rows: encoded, scaled, the network, unscaled."""
    scale, shift = input_affine(pre)
    x = encode_rows(pre, rows) * scale.astype(np.float64) + shift
    out = predict_numpy(spec, 1.0, layers, x)
    unscale = output_affine(pre)
    if unscale is not None:
        out = out * unscale[0].astype(np.float64) + unscale[1]
    return out
# endregion


def read_rows(path):
    """Row dicts of a CSV/TSV file (a header row) or of JSON rows."""
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)
        return rows["data"] if isinstance(rows, dict) else rows
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read()
    dialect = csv.excel_tab if path.endswith(".tsv") else csv.excel
    return list(csv.DictReader(text.splitlines(), dialect=dialect))


# region torch
def torch_model(spec, layers):
    """The network as nn.Sequential: per hidden layer Linear, [LayerNorm |
    BatchNorm1d], activation, [Dropout]; then Linear and the head."""
    import torch
    from torch import nn

    activations = {
        "relu": lambda p: nn.ReLU(),
        "leakyRelu": lambda p: nn.LeakyReLU(p.get("slope", 0.01)),
        "gelu": lambda p: nn.GELU(approximate="tanh"),
        "tanh": lambda p: nn.Tanh(),
        "sigmoid": lambda p: nn.Sigmoid(),
        "linear": lambda p: nn.Identity(),
    }
    norms = {
        "layer": lambda n, p: nn.LayerNorm(n, eps=p.get("eps", 1e-5)),
        "batch": lambda n, p: nn.BatchNorm1d(
            n, eps=p.get("eps", 1e-5), momentum=p.get("momentum", 0.1)
        ),
    }
    heads = {"softmax": nn.Softmax(dim=1), "sigmoid": nn.Sigmoid()}
    modules, state = [], {}

    def add(module, tensors):
        # module k's parameters and buffers: layers.{i}.<key> as they are
        for key, t in tensors.items():
            state[f"{len(modules)}.{key}"] = torch.from_numpy(t.copy())
        modules.append(module)

    for i, layer in enumerate(layers):
        w = layer["weight"]
        add(nn.Linear(w.shape[1], w.shape[0]),
            {"weight": w, "bias": layer["bias"]})
        if i == len(layers) - 1:
            break
        if layer["norm"] is not None:
            name, params = name_and_params(layer["norm"])
            tensors = {k[5:]: v for k, v in layer.items() if k.startswith("norm.")}
            if name == "batch":
                tensors["num_batches_tracked"] = np.array(0)
            add(norms[name](w.shape[0], params), tensors)
        name, params = name_and_params(spec["activations"][i])
        modules.append(activations[name](params))
        if layer["dropout"] > 0:
            modules.append(nn.Dropout(layer["dropout"]))
    head_name = name_and_params(spec["head"])[0]
    if head_name in heads:  # mse, huber: the outputs themselves
        modules.append(heads[head_name])
    model = nn.Sequential(*modules)
    model.load_state_dict(state)
    return model.eval()
# endregion


def predict_torch(spec, scale, layers, x):
    """The predictions from torch in float32, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    model = torch_model(spec, layers)
    with torch.no_grad():
        inputs = torch.from_numpy(np.asarray(x, dtype=np.float32)) * scale
        return model(inputs).numpy().astype(np.float64)


def check_names(path, spec):
    """Names this script knows, so a newer file fails with a message."""
    for key in spec:
        if key not in ("layers", "activations", "head", "norms", "dropouts"):
            raise ValueError(
                f"{path}: its spec has {json.dumps(key)}, which this script "
                "does not know (a newer webgpu-mlp?)"
            )
    for entry in spec.get("norms") or []:
        if entry is not None and name_and_params(entry)[0] not in ("layer", "batch"):
            raise ValueError(
                f"{path}: norm {json.dumps(entry)} is not one of layer, "
                "batch (a newer webgpu-mlp?)"
            )
    for entry in spec["activations"]:
        if name_and_params(entry)[0] not in ACTIVATIONS:
            raise ValueError(
                f"{path}: activation {json.dumps(entry)} is not one of "
                f"{', '.join(ACTIVATIONS)} (a newer webgpu-mlp?)"
            )
    if name_and_params(spec["head"])[0] not in HEADS:
        raise ValueError(
            f"{path}: head {json.dumps(spec['head'])} is not one of "
            f"{', '.join(HEADS)} (a newer webgpu-mlp?)"
        )


def read_inputs(path, width):
    x = np.load(path)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(
            f"{path}: inputs have shape {list(x.shape)}, "
            f"expected [count, {width}] for this network"
        )
    return x


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Predict with a webgpu-mlp model file in NumPy (and "
        "in PyTorch when torch is installed), as mlp.predict does.",
        epilog="example: python3 load_model.py out/mnist-mlp.safetensors "
        "digits.npy --out predictions.npy",
    )
    parser.add_argument("model", help="a .safetensors file of webgpu-mlp")
    parser.add_argument(
        "inputs", help=".npy array [count, D] of raw inputs (bytes: 0..255), "
        "or for a network trained on a table its rows: .csv, .tsv or .json"
    )
    parser.add_argument(
        "--out",
        help="write the predictions: .npy (NumPy's), or .json "
        '({"numpy": rows, "torch": rows or null}); default: print them',
    )
    args = parser.parse_args(argv)
    named = args.inputs.endswith((".csv", ".tsv", ".json"))
    try:
        spec, scale, layers = load_model(args.model)
        check_names(args.model, spec)
        if named:
            with safe_open(args.model, framework="np") as f:
                raw = (f.metadata() or {}).get("preprocessing")
            if raw is None:
                raise ValueError(f"{args.model}: not trained on a table "
                                 "(no preprocessing): give inputs as .npy")
            pre = json.loads(raw)
            rows = read_rows(args.inputs)
        else:
            x = read_inputs(args.inputs, spec["layers"][0])
    except (OSError, ValueError) as error:
        parser.exit(1, f"load_model.py: error: {error}\n")

    if named:
        try:
            numpy_out = predict_rows(spec, layers, pre, rows)
        except ValueError as error:
            parser.exit(1, f"load_model.py: error: {args.inputs}: {error}\n")
        names = (pre["target"]["classes"] if pre["target"]["type"] ==
                 "classification" else pre["target"]["columns"])
        if args.out is None:
            for row in numpy_out:
                print(", ".join(f"{n} {v:.6g}" for n, v in zip(names, row)))
        else:
            with open(args.out, "w") as f:
                json.dump({"names": names, "numpy": numpy_out.tolist()}, f)
        print(f"{len(rows)} rows by column name, layers {spec['layers']}, "
              f"head {json.dumps(spec['head'])}, outputs {names}",
              file=sys.stderr)
        return

    numpy_out = predict_numpy(spec, scale, layers, x)
    torch_out = predict_torch(spec, scale, layers, x)
    if torch_out is None:
        torch_note = "torch: not installed, NumPy only"
    else:
        diff = float(np.max(np.abs(torch_out - numpy_out), initial=0))
        torch_note = f"torch: max |torch - numpy| = {diff:.3g}"

    if args.out is None:
        np.set_printoptions(precision=6, suppress=True)
        print(numpy_out)
    elif args.out.endswith(".json"):
        rows = {"numpy": numpy_out.tolist()}
        rows["torch"] = None if torch_out is None else torch_out.tolist()
        with open(args.out, "w") as f:
            json.dump(rows, f)
    else:
        np.save(args.out, numpy_out)
    print(
        f"{len(x)} rows, layers {spec['layers']}, "
        f"head {json.dumps(spec['head'])}, input scale {scale:.6g}; "
        f"{torch_note}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
