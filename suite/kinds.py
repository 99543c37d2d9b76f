"""Module kinds: the one table of what each kind of plug-in module is and how it is placed.

Every rule that depends on a module's kind is read from ``KINDS``: the modes a spec may ask for (the
first is the default, dropped from canonical strings), the builder's positional arguments that the
insertion point supplies (the user never sets them), whether mode ``replace`` swaps a block of the
network or fills a slot, what the module takes the place of, and the builder contract in one line.
``suite.spec`` checks modes against it, ``suite.build`` builds and places modules with it,
``suite.baselines`` fills slots with it, and ``suite list modules`` prints it.

The gated modes (``GATED``) wrap a form of the kind in a learned per-channel gate ``g`` that starts at
0, so the network computes exactly what the baseline computes until ``g`` moves: ``gated`` gates the
kind's default form, ``x + g * (m(x) - x)`` for attention (``after``) and ``skip + g * (m(decoder,
skip) - skip)`` for fusion (``replace``); ``gated_residual`` gates the residual form, ``x + g * m(x)``.
Kinds that swap a block (conv, up, down) have no gated mode: nothing of the baseline is left to fall
back on. Composites (``suite.spec``) are built from attention modules only, combined in parallel by
one of ``FUSIONS``.

Point-supplied arguments come from the ``Point`` of a built baseline (``suite.baselines.Point``):
``channels`` and ``out_channels`` from ``point.channels``, ``in_channels`` from ``point.in_channels``,
``stride`` and ``scale`` from ``point.block_stride`` (the factor the replaced block resamples by).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of module: its modes, its builder's point arguments and its contract."""

    name: str
    modes: tuple[str, ...]  # modes a spec may ask for; the first is the default
    point_args: tuple[str, ...]  # the builder's leading arguments, supplied by the point, in order
    swaps_block: bool  # True: mode replace swaps the point's block; False: the module fills a slot
    replaces: str | None  # what mode replace takes the place of (None: the kind never replaces)
    contract: str  # the builder signature and what its module maps to, in one line
    upsamples: bool = False  # True: the module's input is ``block_stride`` times coarser than its output

    @property
    def default_mode(self) -> str:
        return self.modes[0]

    @property
    def a_module(self) -> str:
        """``an attention module``, ``a conv module``: the kind in a sentence."""
        return f"{'an' if self.name[0] in 'aeiou' else 'a'} {self.name} module"


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "attention",
            modes=("after", "residual", "gated", "gated_residual"),
            point_args=("channels",),
            swaps_block=False,
            replaces=None,
            contract="(channels, **kw): NCHW in, same shape out",
        ),
        Kind(
            "conv",
            modes=("replace",),
            point_args=("in_channels", "out_channels", "stride"),
            swaps_block=True,
            replaces="a conv block",
            contract="(in_channels, out_channels, stride=1, **kw): out_channels at ceil(H/stride) x ceil(W/stride)",
        ),
        Kind(
            "fusion",
            modes=("replace", "gated"),
            point_args=("channels",),
            swaps_block=False,
            replaces="the skip tensor",
            contract="(channels, **kw): forward(decoder, skip) returns a tensor shaped like skip",
        ),
        Kind(
            "up",
            modes=("replace",),
            point_args=("in_channels", "out_channels", "scale"),
            swaps_block=True,
            replaces="an upsampling layer",
            contract="(in_channels, out_channels, scale=2, **kw): out_channels at H*scale x W*scale",
            upsamples=True,
        ),
        Kind(
            "down",
            modes=("replace",),
            point_args=("in_channels", "out_channels", "stride"),
            swaps_block=True,
            replaces="a downsampling layer",
            contract="(in_channels, out_channels, stride=2, **kw): out_channels at ceil(H/stride) x ceil(W/stride)",
        ),
    )
}

# Every mode of the grammar, in the order first met in the table: after, residual, replace.
MODES: tuple[str, ...] = tuple(dict.fromkeys(mode for kind in KINDS.values() for mode in kind.modes))
# The modes of the kinds that fill slots (the rest swap a block and never reach a slot).
SLOT_MODES: tuple[str, ...] = tuple(
    dict.fromkeys(mode for kind in KINDS.values() if not kind.swaps_block for mode in kind.modes)
)
# The modes each kind supports, default first (a view of KINDS for callers that only need the modes).
KIND_MODES: dict[str, tuple[str, ...]] = {name: kind.modes for name, kind in KINDS.items()}

# Gated mode -> the form it gates (None: the kind's default form); see the module docstring.
GATED: dict[str, str | None] = {"gated": None, "gated_residual": "residual"}

# How a parallel composite merges its members' outputs, the default first (dropped from canonical strings).
FUSIONS: dict[str, str] = {
    "sum": "the members' outputs added",
    "wsum": "a learned softmax-weighted sum of the members' outputs (equal weights at initialisation)",
    "cat": "the members' outputs concatenated, then a 1x1 convolution back to the point's channels",
}
COMPOSITE_KIND = "attention"  # the only kind a composite's members may be, and the kind a composite is
MAX_NESTING = 3  # parenthesised levels in one composite
MAX_MEMBERS = 8  # modules in one composite, all levels together


def ungated_form(kind: str, mode: str) -> str:
    """The form a gated ``mode`` gates for a module of ``kind``; other modes are their own form."""
    if mode not in GATED:
        return mode
    return GATED[mode] or KINDS[kind].default_mode


# Where each point-supplied builder argument comes from on a ``Point``.
_POINT_FIELDS = {
    "channels": "channels",
    "in_channels": "in_channels",
    "out_channels": "channels",
    "stride": "block_stride",
    "scale": "block_stride",
}


def input_stride(kind: str, point: object) -> float:
    """Stride (input image size / map size) of the map a module of ``kind`` receives at ``point``;
    ``point.stride`` is that of the map the point gives on, which a block-swapping module resamples."""
    if not KINDS[kind].swaps_block:
        return point.stride
    factor = point.block_stride
    return point.stride * factor if KINDS[kind].upsamples else point.stride / factor


def point_args(kind: str, point: object) -> tuple[int, ...]:
    """The builder's point-supplied arguments for a module of ``kind`` at ``point`` (a ``Point``)."""
    return tuple(getattr(point, _POINT_FIELDS[arg]) for arg in KINDS[kind].point_args)
