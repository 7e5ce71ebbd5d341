#!/usr/bin/python3
"""Evaluates in PyTorch the Fashion-MNIST models that examples/fashion_mnist trained in neuronka and
exported as safetensors, and prints their test accuracy, which equals the one neuronka printed.

Usage:  /usr/bin/python3 examples/python/fashion_mnist_in_pytorch.py [OUT_DIR] [DATA_DIR]
        (defaults: out/tour and /usr/share/datasets/fashion-mnist; needs python3-torch)

The PyTorch models are nn.Sequential with the entries of neuronka's Sequential, one for one, so the
state_dict names ("0.weight", "2.bias", ...) are the file's (docs/interop.md).
"""
import gzip
import json
import os
import struct
import sys

import torch
from torch import nn

out = sys.argv[1] if len(sys.argv) > 1 else "out/tour"
data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"


def load_file(path):
    """safetensors.torch.load_file(path), for machines without the safetensors package."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    tensors = {}
    for name, info in json.loads(raw[8:8 + n]).items():
        if name != "__metadata__":
            begin, end = info["data_offsets"]
            chunk = bytearray(raw[8 + n + begin:8 + n + end])
            tensors[name] = torch.frombuffer(chunk, dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors


models = {
    # Sequential<Dense<float, 784, 256>, ReLU, Dense<float, 256, 128>, ReLU, Dense<float, 128, 10>>
    "mlp": nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)),
    # Sequential<Conv2D<1, 16, 5, padding 2>, ReLU, MaxPool2D, Conv2D<16, 32, 5, padding 2>, ReLU, MaxPool2D,
    #            Flatten, Dense<1568, 128>, ReLU, Dropout<1, 2>, Dense<128, 10>>
    "cnn": nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5, padding=2),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(128, 10)),
}


def idx(path):
    raw = gzip.open(path).read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


images = idx(os.path.join(data, "t10k-images-idx3-ubyte.gz")).float() / 255  # as neuronka's IDX reader scales them
labels = idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz")).long()
for name, model in models.items():
    path = os.path.join(out, f"fashion_mnist_{name}.safetensors")
    if not os.path.exists(path):
        continue
    model.load_state_dict(load_file(path))  # strict: every name and shape must match
    model.eval()
    x = images.reshape(-1, 784) if name == "mlp" else images.reshape(-1, 1, 28, 28)
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == labels).float().mean().item()
    print(f"{name.upper()} from {path}, evaluated by PyTorch {torch.__version__}: test accuracy {100 * accuracy:.2f}%")
