# PyTorch's side of bench/train-ops.ts: torchvision ResNet18's convolution shapes (224 px, batch 16;
# FLEET_IMAGE_SIZE / FLEET_BATCH / FLEET_TORCH_DEVICE override)
# timed forward, input-gradient and filter-gradient on CUDA (default settings: cuDNN, TF32 allowed
# for convolutions), and a whole finetune step; median of 5 after a warm-up, milliseconds.
import os, time, torch, torchvision
from torch.nn.grad import conv2d_input, conv2d_weight

dev = torch.device(os.environ.get('FLEET_TORCH_DEVICE', 'cuda'))
sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
B, S = int(os.environ.get('FLEET_BATCH', 16)), int(os.environ.get('FLEET_IMAGE_SIZE', 224))
def t(f, reps=5):
    f(); sync(); times = []
    for _ in range(reps):
        s = time.perf_counter(); f(); sync(); times.append((time.perf_counter() - s) * 1e3)
    return sorted(times)[reps // 2]
convs = [('conv1 7x7/2', S, 3, 64, 7, 2, 1), ('layer1 3x3 64', S // 4, 64, 64, 3, 1, 4), ('layer2 3x3/2 64->128', S // 4, 64, 128, 3, 2, 1),
         ('layer2 3x3 128', S // 8, 128, 128, 3, 1, 3), ('layer2 1x1/2 downsample', S // 4, 64, 128, 1, 2, 1), ('layer3 3x3/2 128->256', S // 8, 128, 256, 3, 2, 1),
         ('layer3 3x3 256', S // 16, 256, 256, 3, 1, 3), ('layer3 1x1/2 downsample', S // 8, 128, 256, 1, 2, 1), ('layer4 3x3/2 256->512', S // 16, 256, 512, 3, 2, 1),
         ('layer4 3x3 512', S // 32, 512, 512, 3, 1, 3), ('layer4 1x1/2 downsample', S // 16, 256, 512, 1, 2, 1)]
tot = [0.0, 0.0, 0.0]
print(f"{'conv':26}{'x':>3}{'forward':>10}{'grad in':>10}{'grad w':>10}")
for name, side, cin, cout, k, st, n in convs:
    pad = (k - 1) // 2
    x = torch.randn(B, cin, side, side, device=dev); w = torch.randn(cout, cin, k, k, device=dev)
    y = torch.nn.functional.conv2d(x, w, stride=st, padding=pad); dy = torch.randn_like(y)
    f = t(lambda: torch.nn.functional.conv2d(x, w, stride=st, padding=pad))
    gi = 0.0 if name.startswith('conv1') else t(lambda: conv2d_input(x.shape, w, dy, stride=st, padding=pad))
    gw = t(lambda: conv2d_weight(x, w.shape, dy, stride=st, padding=pad))
    for i, v in enumerate((f, gi, gw)): tot[i] += n * v
    print(f"{name:26}{n:>3}{f:>10.3f}{gi:>10.3f}{gw:>10.3f}")
m = torchvision.models.resnet18(); m.fc = torch.nn.Linear(512, 2); m.to(dev).train()
opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9)
xb = torch.randn(B, 3, S, S, device=dev); yb = (torch.arange(B) % 2).to(dev)
def step():
    opt.zero_grad(); torch.nn.functional.cross_entropy(m(xb), yb).backward(); opt.step()
st = t(step)
print(f"per finetune step: conv forward {tot[0]:.2f} + input grads {tot[1]:.2f} + filter grads {tot[2]:.2f} = {sum(tot):.2f} ms of a {st:.2f} ms step")
