#!/usr/bin/python3
"""Eval logits of an exported .pth in real PyTorch: what a user of `finetune export` runs.

Usage: torch-logits.py MODEL.pth INPUTS.f32 N SIZE
INPUTS.f32 holds N preprocessed images as float32 NHWC (the engine's val transform). Loads the file
with torch.load, strictly into torchvision's resnet18(num_classes from fc), prints the logits as JSON.
"""
import json
import sys

import numpy as np
import torch
import torchvision

model_file, inputs_file, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sd = torch.load(model_file, map_location='cpu')
model = torchvision.models.resnet18(num_classes=sd['fc.weight'].shape[0])
model.load_state_dict(sd, strict=True)
model.eval()
x = torch.from_numpy(np.fromfile(inputs_file, dtype=np.float32).reshape(n, size, size, 3)).permute(0, 3, 1, 2).contiguous()
with torch.no_grad():
    logits = model(x)
print(json.dumps({'type': type(sd).__name__, 'logits': logits.tolist()}))
