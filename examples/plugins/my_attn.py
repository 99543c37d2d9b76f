"""My attention (kind: attention): a channel gate from a 1-D convolution across the pooled channels.

An example of a plugin file, written as a user would write one: a module registered with the same
decorator, contract and metadata as suite's own. Paper: none, this is an example (the idea is ECA's,
Wang et al., "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
arXiv:1910.03151).

    suite check examples/plugins/my_attn.py
    suite inspect unet+my_attn --plugin examples/plugins/my_attn.py
    suite run --variant unet+my_attn --plugin examples/plugins/my_attn.py --dataset shapes --folds 3
"""

import torch
from torch import nn

from suite.modules import with_hparams
from suite.registry import MODULES


class MyAttention(nn.Module):
    """x * sigmoid(conv1d(mean over H, W)): one weight per channel, from its neighbouring channels."""

    def __init__(self, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3)).unsqueeze(1)  # (B, 1, C)
        weights = torch.sigmoid(self.conv(pooled))  # (B, 1, C)
        return x * weights.transpose(1, 2).unsqueeze(-1)  # (B, C, 1, 1) broadcast over H, W


@MODULES.register("my_attn", kind="attention", paper="My attention (an example plugin)", arxiv=None)
def my_attn(channels: int, kernel_size: int = 3) -> nn.Module:
    """``channels`` comes from the insertion point; ``kernel_size`` can be set in a spec: my_attn(kernel_size=5)."""
    return with_hparams(MyAttention(kernel_size), kernel_size=kernel_size)
