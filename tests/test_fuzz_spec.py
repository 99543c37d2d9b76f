"""Property tests of the spec parser and canonicaliser: on any string (unicode, deep nesting, long
inputs, near-miss specs built from the registries' names, composites, baseline arguments) only a
``SuiteError`` of one line or a valid spec comes out, and every canonical form round-trips."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suite.baselines import BASELINES
from suite.errors import SuiteError
from suite.modules import MODULES, module_defaults
from suite.spec import MAX_INSERTIONS, MODES, canonical, compact, parse

# A deadline per example far above the milliseconds one takes: it stops a pathological input, not a busy machine.
BOUNDED = settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
GRAMMAR = "+@(),:=*?[]'\"._-|> "
POINT_WORDS = sorted({p for e in BASELINES.entries() for p in [*e.meta["catalog"].names, *e.meta["catalog"].groups]})

names = st.sampled_from(BASELINES.list())
modules = st.sampled_from(MODULES.list())
values = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "false", "1e999", "-1e999", "nan", "0x1f", "1_000", "'a,b)'", '"q"', "word", "[1]", "x.y",
                     "(1,2)", "(0.5,)", "((1,2))", "(nan,1)", "()"]),
    st.text(max_size=12).map(repr),
)
kwargs = st.lists(st.tuples(st.sampled_from(sorted({k for m in MODULES.list() for k in module_defaults(m)} | {"bogus"})), values), max_size=3)
points = st.lists(st.one_of(st.sampled_from(POINT_WORDS), st.sampled_from(["dec*", "block?", "[a-z]*", "*", "nowhere"])), max_size=4)


@st.composite
def units(draw, depth: int = 0) -> str:
    """A module with random arguments, or a composite of such units (serial or parallel, maybe a fusion)."""
    if depth > 3 or draw(st.integers(0, 3)):
        text = draw(modules)
        pairs = draw(kwargs)
        return text + ("(" + ",".join(f"{k}={v}" for k, v in pairs) + ")" if pairs else "")
    members = draw(st.lists(units(depth + 1), min_size=1, max_size=4))
    separator = draw(st.sampled_from([">", "|", "|", "|>"]))
    fusion = draw(st.sampled_from(["", "", ":sum", ":wsum", ":cat", ":max"]))
    return "(" + separator.join(members) + ")" + fusion


baseline_arguments = st.sampled_from(
    ["", "", "(width=18)", "(width=8.0)", "(width=1.5)", "(decoder_channels=(64,32,16,16,8))",
     "(decoder_channels=(8,))", "(width=(1,2))", "(bogus=1)", "(width=18,pretrained=true)", "()"]
)  # fmt: skip


@st.composite
def near_specs(draw) -> str:
    """Specs made of real names with random arguments, composites, points and modes: many valid, many
    near misses."""
    parts = [draw(names) + draw(baseline_arguments)]
    for _ in range(draw(st.integers(0, 4))):
        text = draw(units())
        chosen = draw(points)
        if chosen:
            text += "@" + ",".join(chosen)
        if draw(st.booleans()):
            text += ":" + draw(st.sampled_from([*MODES, "sideways"]))
        parts.append(text)
    spec = "+".join(parts)
    return draw(st.sampled_from([spec, spec.upper(), f"  {spec} "]))


any_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from(GRAMMAR + "aeiosu019"), max_size=300),
    st.builds(lambda n, c: c * n, st.integers(1, 5000), st.sampled_from(["(", "[", "+se", "@", "se(a=[", "'", "(se|", "(se>", "+(se|sa)"])),
    st.builds(lambda s, n: s + "(" + "a=(" * n, names, st.integers(1, 3000)),
    st.builds(lambda s, tail: s + tail, names, st.text(max_size=100)),
)


def _one_line(err: SuiteError) -> None:
    message = str(err)
    assert message and "\n" not in message and len(message) < 2000


def _round_trips(text: str) -> None:
    try:
        spec = parse(text)
    except SuiteError as err:
        _one_line(err)
        return
    assert parse(str(spec)) == spec
    assert len(spec.insertions) <= MAX_INSERTIONS
    try:
        resolved = canonical(spec)
    except SuiteError as err:
        _one_line(err)
        return
    assert canonical(str(resolved)) == resolved, "canonical forms round-trip"
    assert canonical(compact(resolved)) == resolved, "the compact display form canonicalizes back"


@BOUNDED
@given(any_text)
def test_any_string_is_a_valid_spec_or_one_line_error(text: str) -> None:
    _round_trips(text)


@BOUNDED
@given(near_specs())
def test_specs_from_the_registries_round_trip_or_fail_in_one_line(text: str) -> None:
    _round_trips(text)
