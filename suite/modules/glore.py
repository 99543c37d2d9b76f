"""Global reasoning unit, GloRe (kind: attention).

Paper: Chen et al., "Graph-Based Global Reasoning Networks", arXiv:1811.12814. The map is projected
into a small fully connected graph: a 1x1 conv reduces the features to ``2 * nodes`` state channels, a
second 1x1 conv gives ``nodes`` projection maps whose weighted sums over the positions become the node
states; one graph convolution (a 1x1 conv across nodes, adding the node states back, ReLU, a 1x1 conv
across states) reasons over them; the states are projected back with the same maps, widened by a 1x1
conv and BatchNorm and added to the input. ``rd_ratio`` sets the nodes to ``channels * rd_ratio`` (1/4,
the paper's setting: N = C/4 nodes of C/2 states). Same layers as the paper's code (``normalize=false``).

How ours differs: the node count is rounded to a multiple of 8, minimum 8. The unit already adds its
input, so ``:residual`` mode adds it twice.
"""

from __future__ import annotations

import torch
from timm.layers import make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.registry import MODULES


class GraphConv(nn.Module):
    """One graph convolution over (B, states, nodes): mix nodes (+ identity), ReLU, mix states."""

    def __init__(self, states: int, nodes: int):
        super().__init__()
        self.node_mix = nn.Conv1d(nodes, nodes, 1)
        self.state_mix = nn.Conv1d(states, states, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = self.node_mix(x.transpose(1, 2)).transpose(1, 2)
        return self.state_mix(torch.relu(mixed + x))


class GlobalReasoning(nn.Module):
    """x -> x + BN(conv(reproject(graph_conv(project(state(x)))))."""

    def __init__(self, channels: int, nodes: int):
        super().__init__()
        states = 2 * nodes
        self.state = nn.Conv2d(channels, states, 1)
        self.projection = nn.Conv2d(channels, nodes, 1)
        self.graph = GraphConv(states, nodes)
        self.extend = nn.Conv2d(states, channels, 1, bias=False)
        self.norm = nn.BatchNorm2d(channels, eps=1e-4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = self.state(x).flatten(2)  # (B, S, N_pos)
        projection = self.projection(x).flatten(2)  # (B, nodes, N_pos)
        node_states = torch.einsum("bsn,bvn->bsv", states, projection)  # (B, S, nodes)
        reasoned = torch.einsum("bsv,bvn->bsn", self.graph(node_states), projection)
        return x + self.norm(self.extend(reasoned.view(x.shape[0], -1, *x.shape[2:])))


@MODULES.register(
    "glore",
    kind="attention",
    paper="Graph-Based Global Reasoning Networks",
    arxiv="1811.12814",
    width_hparams=("nodes",),
)
def glore(channels: int, rd_ratio: float = 1 / 4) -> nn.Module:
    positive("glore", "rd_ratio", rd_ratio)
    nodes = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(GlobalReasoning(channels, nodes), rd_ratio=rd_ratio, nodes=nodes)
