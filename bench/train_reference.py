#!/usr/bin/python3
"""PyTorch peer of bench/train_bench.cc: training images/s of one network.

The three networks are written out here as a PyTorch user would write them
(torchvision is not installed on the bench machines): RegNetX-200MF with
pycls's small-image stem (3x3 stride-1 conv, no max pool), and ResNet-18 and
DenseNet-121 exactly as torchvision builds them. The training step is the
ordinary PyTorch loop: SGD with momentum, Nesterov and weight decay,
cross-entropy, zero_grad / backward / step, on pre-made random batches.

Prints one JSON object: model, params, images_per_s, seconds, steps.
"""

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# --- RegNetX (pycls AnyNet with X blocks) ---------------------------------


class XBlock(nn.Module):
    def __init__(self, w_in, w_out, stride, group_width):
        super().__init__()
        w_b = w_out  # bottleneck ratio 1
        groups = w_b // group_width
        self.a = nn.Conv2d(w_in, w_b, 1, bias=False)
        self.a_bn = nn.BatchNorm2d(w_b)
        self.b = nn.Conv2d(w_b, w_b, 3, stride, 1, groups=groups, bias=False)
        self.b_bn = nn.BatchNorm2d(w_b)
        self.c = nn.Conv2d(w_b, w_out, 1, bias=False)
        self.c_bn = nn.BatchNorm2d(w_out)
        self.proj = None
        if w_in != w_out or stride != 1:
            self.proj = nn.Sequential(
                nn.Conv2d(w_in, w_out, 1, stride, bias=False), nn.BatchNorm2d(w_out))

    def forward(self, x):
        y = F.relu(self.a_bn(self.a(x)), inplace=True)
        y = F.relu(self.b_bn(self.b(y)), inplace=True)
        y = self.c_bn(self.c(y))
        s = x if self.proj is None else self.proj(x)
        return F.relu(y + s, inplace=True)


def regnet_x_200mf_cifar(num_classes):
    # pycls RegNetX-200MF: d=13, w_0=24, w_a=36.44, w_m=2.49, g=8 quantizes to
    # these stages; the stem is pycls's res_stem_cifar.
    depths, widths, group_width = [1, 1, 4, 7], [24, 56, 152, 368], 8
    layers = [nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True)]
    w_in = 32
    for d, w in zip(depths, widths):
        for i in range(d):
            layers.append(XBlock(w_in, w, 2 if i == 0 else 1, group_width))
            w_in = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(w_in, num_classes)]
    return nn.Sequential(*layers)


# --- ResNet-18 (torchvision) ------------------------------------------------


class BasicBlock(nn.Module):
    def __init__(self, w_in, w_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(w_in, w_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(w_out, w_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(w_out)
        self.downsample = None
        if stride != 1 or w_in != w_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(w_in, w_out, 1, stride, bias=False), nn.BatchNorm2d(w_out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def resnet18(num_classes):
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, 2, 1)]
    w_in = 64
    for i, w in enumerate([64, 128, 256, 512]):
        for j in range(2):
            layers.append(BasicBlock(w_in, w, 2 if (j == 0 and i > 0) else 1))
            w_in = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


# --- DenseNet-121 (torchvision, memory_efficient=False) ---------------------


class DenseLayer(nn.Module):
    def __init__(self, w_in, growth_rate, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(w_in)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(w_in, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, 1, 1, bias=False)

    def forward(self, features):
        # torchvision passes the list of earlier features and concatenates
        # them here; the running concatenation below is the same computation.
        x = features
        y = self.conv1(self.relu1(self.norm1(x)))
        y = self.conv2(self.relu2(self.norm2(y)))
        return torch.cat([x, y], 1)


class Transition(nn.Sequential):
    def __init__(self, w_in, w_out):
        super().__init__(nn.BatchNorm2d(w_in), nn.ReLU(inplace=True),
                         nn.Conv2d(w_in, w_out, 1, bias=False), nn.AvgPool2d(2, 2))


def densenet121(num_classes):
    growth_rate, block_config, init_features, bn_size = 32, [6, 12, 24, 16], 64, 4
    layers = [nn.Conv2d(3, init_features, 7, 2, 3, bias=False), nn.BatchNorm2d(init_features),
              nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    c = init_features
    for i, n in enumerate(block_config):
        for _ in range(n):
            layers.append(DenseLayer(c, growth_rate, bn_size))
            c += growth_rate
        if i + 1 < len(block_config):
            layers.append(Transition(c, c // 2))
            c //= 2
    layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)


MODELS = {
    "regnet_x_200mf": regnet_x_200mf_cifar,
    "resnet18": resnet18,
    "densenet121": densenet121,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = MODELS[args.model](args.classes)
    params = sum(p.numel() for p in model.parameters())
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    n = args.batch_size
    batches = [(torch.randn(n, 3, args.resolution, args.resolution),
                torch.randint(0, args.classes, (n,))) for _ in range(4)]
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        batches = [(x.contiguous(memory_format=torch.channels_last), y) for x, y in batches]

    def step(i):
        x, y = batches[i % len(batches)]
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for i in range(args.warmup):
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        loss = step(i)
    loss = loss.item()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "model": args.model,
        "params": params,
        "steps": args.steps,
        "seconds": seconds,
        "images_per_s": args.steps * n / seconds,
        "finite": math.isfinite(loss),
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
