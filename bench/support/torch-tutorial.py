"""The tutorial's PyTorch script, as a user would run it: one strategy per call (scratch, finetune,
freeze, zero-lr, group-lr), torchvision's ImageFolder + DataLoader (batch 16, shuffled train,
num_workers 4 as the tutorial), RandomResizedCrop(224)+flip / Resize(256)+CenterCrop(224), ImageNet
normalisation, SGD lr 0.001 momentum 0.9, StepLR(7, 0.1), cross-entropy, train + val every epoch.
bench/tutorial-sweep.ts runs it five times back to back and compares with the fleet.
Usage: torch-tutorial.py DATA_DIR WEIGHTS.pth STRATEGY EPOCHS -> one JSON line {strategy, seconds, best_acc}
(env TORCH_THREADS, default every core)
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torchvision import datasets, models, transforms

data_dir, weights, strategy, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# Debian's torch 1.13 starts with 1 thread on this 2-vCPU VM; the baseline gets every core.
torch.set_num_threads(int(os.environ.get('TORCH_THREADS', os.cpu_count())))
started = time.perf_counter()
norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
data_transforms = {
    'train': transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm]),
    'val': transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm]),
}
image_datasets = {x: datasets.ImageFolder(f'{data_dir}/{x}', data_transforms[x]) for x in ['train', 'val']}
loaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=16, shuffle=(x == 'train'), num_workers=4) for x in ['train', 'val']}
sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}
classes = len(image_datasets['train'].classes)

model = models.resnet18()
if strategy != 'scratch':
    model.load_state_dict(torch.load(weights, map_location='cpu'))
if strategy == 'freeze':
    for p in model.parameters():
        p.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, classes)
fc_ids = list(map(id, model.fc.parameters()))
backbone = [p for p in model.parameters() if id(p) not in fc_ids]
if strategy == 'freeze':
    optimizer = optim.SGD(model.fc.parameters(), lr=0.001, momentum=0.9)
elif strategy in ('zero-lr', 'group-lr'):
    factor = 0.0 if strategy == 'zero-lr' else 0.1
    optimizer = optim.SGD([{'params': backbone, 'lr': 0.001 * factor}, {'params': model.fc.parameters(), 'lr': 0.001}], momentum=0.9)
else:
    optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
scheduler = lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
criterion = nn.CrossEntropyLoss()

best_acc = 0.0
for epoch in range(epochs):
    for phase in ['train', 'val']:
        model.train() if phase == 'train' else model.eval()
        running_loss, running_corrects = 0.0, 0
        for inputs, labels in loaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == 'train'):
                outputs = model(inputs)
                loss = criterion(outputs, labels)
                if phase == 'train':
                    loss.backward()
                    optimizer.step()
            running_loss += loss.item() * inputs.size(0)
            running_corrects += int((outputs.argmax(1) == labels).sum())
        if phase == 'train':
            scheduler.step()
        acc = running_corrects / sizes[phase]
        if phase == 'val':
            best_acc = max(best_acc, acc)
print(json.dumps({'strategy': strategy, 'seconds': time.perf_counter() - started, 'best_acc': best_acc}))
