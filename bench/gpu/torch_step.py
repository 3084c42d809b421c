"""The SimCLR and MoCo steps of selfsup's small-CNN bench cases in PyTorch on CUDA (same network as
../shared/bench/peer_simclr_step.py: conv3x3 32-64-128 + BN + ReLU, strides 1-2-2, global average
pool, MLP 128-128-64; batch 256 = 512 views; SimCLR NT-Xent T=0.5; MoCo: queries from one view, keys
from the other through an EMA copy, queue 4096, T=0.2). Random inputs: the step, not the data, is
timed. Prints one JSON line: median ms per step (torch.cuda.synchronize around each).
    python3 bench/gpu/torch_step.py [--steps 10] [--device cuda]
"""
import argparse, copy, json, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=10)
p.add_argument("--warmup", type=int, default=5)
p.add_argument("--batch", type=int, default=256)
p.add_argument("--device", default="cuda")
a = p.parse_args()
dev, N = a.device, a.batch
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def block(cin, cout, s):
    return [nn.Conv2d(cin, cout, 3, s, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def net():
    enc = nn.Sequential(*block(1, 32, 1), *block(32, 64, 2), *block(64, 128, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return nn.Sequential(enc, nn.Linear(128, 128), nn.ReLU(inplace=True), nn.Linear(128, 64)).to(dev)


def sync():
    if dev == "cuda":
        torch.cuda.synchronize()


def timed(step):
    ts = []
    for i in range(a.warmup + a.steps):
        sync(); t = time.perf_counter(); step(); sync()
        if i >= a.warmup:
            ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts)


x = torch.rand(2 * N, 1, 28, 28, device=dev)
m = net(); opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
target = (torch.arange(2 * N, device=dev) + N) % (2 * N)
eye = torch.eye(2 * N, dtype=torch.bool, device=dev)


def simclr():
    opt.zero_grad(set_to_none=True)
    z = F.normalize(m(x), dim=1)
    loss = F.cross_entropy((z @ z.t() / 0.5).masked_fill(eye, float("-inf")), target)
    loss.backward(); opt.step(); return loss.item()


q_net = net(); k_net = copy.deepcopy(q_net)
for k in k_net.parameters():
    k.requires_grad_(False)
q_opt = torch.optim.SGD(q_net.parameters(), lr=0.05, momentum=0.9)
queue = F.normalize(torch.randn(4096, 64, device=dev), dim=1)
ptr = [0]
zeros = torch.zeros(N, dtype=torch.long, device=dev)


def moco():
    with torch.no_grad():
        for pk, pq in zip(k_net.parameters(), q_net.parameters()):
            pk.mul_(0.99).add_(pq.detach(), alpha=0.01)
        k = F.normalize(k_net(x[N:]), dim=1)
    q = F.normalize(q_net(x[:N]), dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.t()], 1) / 0.2
    loss = F.cross_entropy(logits, zeros)
    q_opt.zero_grad(set_to_none=True); loss.backward(); q_opt.step()
    with torch.no_grad():
        queue[ptr[0]:ptr[0] + N] = k; ptr[0] = (ptr[0] + N) % 4096
    return loss.item()


out = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu", "batch": N,
       "simclr_ms": round(timed(simclr), 3), "moco_ms": round(timed(moco), 3)}
print(json.dumps(out))
