"""MobileNetV1 with YAMNet's layer layout, for log-mel "images" (P1).

YAMNet (the AudioSet classifier P1 uses as its MobileNet) is MobileNetV1 at
width 1.0: a 3x3 stride-2 convolution with 32 channels, 13 depthwise-separable
blocks, global average pooling to a **1024-d** penultimate feature, and a linear
classifier. Each convolution has no bias and is followed by batch norm and ReLU
(YAMNet's batch-norm epsilon is 1e-4). Input: (batch, 1, n_mels, frames).
"""

from __future__ import annotations

import torch
from torch import nn

# (stride, output channels) of the 13 depthwise-separable blocks (YAMNet's _YAMNET_LAYER_DEFS)
YAMNET_BLOCKS: tuple[tuple[int, int], ...] = (
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024),
)
BN_EPS = 1e-4


def _conv_bn(cin: int, cout: int, kernel: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=BN_EPS),
        nn.ReLU(inplace=True),
    )


class MobileNetV1(nn.Module):
    """MobileNetV1 / YAMNet classifier.

    Args:
        n_classes: logits.
        in_channels: input channels (1 for log-mel).
        width: channel multiplier (1.0 = YAMNet, 1024-d features).

    ``features(x)`` returns the pooled penultimate features (batch, 1024 * width).
    """

    def __init__(self, n_classes: int, in_channels: int = 1, width: float = 1.0) -> None:
        super().__init__()
        ch = lambda c: max(8, int(c * width))  # noqa: E731
        layers = [_conv_bn(in_channels, ch(32), 3, 2)]
        cin = ch(32)
        for stride, cout in YAMNET_BLOCKS:
            layers += [_conv_bn(cin, cin, 3, stride, groups=cin), _conv_bn(cin, ch(cout), 1, 1)]
            cin = ch(cout)
        self.body = nn.Sequential(*layers)
        self.feature_dim = cin
        self.fc = nn.Linear(cin, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in_channels, H, W) -> (batch, feature_dim) after global average pooling."""
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, n_classes)."""
        return self.fc(self.features(x))
