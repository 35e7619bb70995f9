#!/usr/bin/python3
"""Generates test/fixtures/parity/*.json: torchvision ResNet18 outputs for deterministic weights.

Real ResNet18 weights are 45 MB, too big to commit, so every float in the state dict (and every
input image) comes from an integer hash of (tensor index, element index) that the TypeScript side
(libs/training/src/model/deterministic-state-dict.ts) reproduces bit for bit. Only the expected
outputs are committed: eval logits, and after two train-mode SGD-momentum steps, per-tensor norms
and samples at fixed indices of every state-dict entry.

Run: /usr/bin/python3 scripts/parity/make-parity-fixtures.py   (torch 1.13, torchvision 0.14)
"""
import json
import math
import os

import numpy as np
import torch
import torchvision

M32 = np.uint32(0xFFFFFFFF)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'parity')
IMAGE_SEED = 100000
HEAD_SEED = 200000


def hash_uniform(p, n):
    """u in [-0.5, 0.5) for elements 0..n-1 of tensor p; mirrors hashUniform() in TypeScript."""
    with np.errstate(over='ignore'):
        i = np.arange(n, dtype=np.uint64)
        a = np.uint32(((p + 1) * 0x9E3779B1) & 0xFFFFFFFF)
        b = ((i + 1) * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
        h = (np.uint64(a) ^ b).astype(np.uint32)
        h ^= h >> np.uint32(16)
        h = (h.astype(np.uint64) * np.uint64(0x7FEB352D) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        h ^= h >> np.uint32(15)
        h = (h.astype(np.uint64) * np.uint64(0x846CA68B) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        h ^= h >> np.uint32(16)
    return (h >> np.uint32(8)).astype(np.float64) / 16777216.0 - 0.5


def value_for(key, p, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    u = hash_uniform(p, n)
    if key.endswith('num_batches_tracked'):
        return None
    if key == 'fc.weight':
        v = u * (2.0 / math.sqrt(shape[1]))
    elif key == 'fc.bias':
        v = u * 0.2
    elif len(shape) == 4:
        fan_in = shape[1] * shape[2] * shape[3]
        v = u * (2.0 * math.sqrt(6.0 / fan_in))
    elif key.endswith('running_var'):
        v = 1.0 + 0.8 * u
    elif key.endswith('weight'):
        v = 1.0 + 0.4 * u
    else:  # bn bias, running_mean
        v = 0.2 * u
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def deterministic_model(num_classes=1000):
    model = torchvision.models.resnet18()
    sd = model.state_dict()
    new = {}
    for p, (key, t) in enumerate(sd.items()):
        v = value_for(key, p, list(t.shape))
        new[key] = torch.zeros_like(t) if v is None else v
    model.load_state_dict(new)
    if num_classes != 1000:
        model.fc = torch.nn.Linear(512, num_classes)
        model.fc.weight.data = value_for('fc.weight', HEAD_SEED, [num_classes, 512])
        model.fc.bias.data = value_for('fc.bias', HEAD_SEED + 1, [num_classes])
    return model


def images(step, batch, size):
    u = hash_uniform(IMAGE_SEED + step, batch * 3 * size * size)
    return torch.from_numpy((u * 4.0).astype(np.float32).reshape(batch, 3, size, size))


def sample_indices(n):
    return sorted({0, 1 % n, n // 3, n // 2, n - 1})


def describe(sd):
    out = {}
    for key, t in sd.items():
        flat = t.detach().reshape(-1)
        if key.endswith('num_batches_tracked'):
            out[key] = {'value': int(flat[0])}
            continue
        flat64 = flat.double()
        out[key] = {
            'norm': float(torch.linalg.norm(flat64)),
            'samples': [[i, float(flat[i])] for i in sample_indices(flat.numel())],
        }
    return out


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    keys = [[k, list(t.shape)] for k, t in torchvision.models.resnet18().state_dict().items()]

    model = deterministic_model()
    model.eval()
    with torch.no_grad():
        logits = model(images(0, 2, 64))
    with open(os.path.join(OUT, 'resnet18-eval.json'), 'w') as f:
        json.dump({'keys': keys, 'batch': 2, 'imageSize': 64, 'imageSeed': IMAGE_SEED,
                   'logits': [float(x) for x in logits.reshape(-1)]}, f)

    num_classes, batch, size = 5, 4, 64
    lr, momentum, weight_decay = 0.01, 0.9, 1e-4
    model = deterministic_model(num_classes)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    labels = torch.tensor([i % num_classes for i in range(batch)])
    losses = []
    for step in range(2):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(images(1 + step, batch, size)), labels)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    with open(os.path.join(OUT, 'resnet18-train-step.json'), 'w') as f:
        json.dump({'numClasses': num_classes, 'batch': batch, 'imageSize': size, 'imageSeed': IMAGE_SEED,
                   'headSeed': HEAD_SEED, 'lr': lr, 'momentum': momentum, 'weightDecay': weight_decay,
                   'labels': labels.tolist(), 'losses': losses, 'after': describe(model.state_dict())}, f)


if __name__ == '__main__':
    main()
