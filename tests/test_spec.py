"""Variant specs: parse/print round trips, canonical keys, and errors that name what is valid.

Specs are generated from the registries: every module at every point and group of every baseline that
takes its kind, with and without non-default keyword arguments and modes.
"""

from __future__ import annotations

import pytest

from suite.baselines import BASELINES
from suite.errors import SuiteError
from suite.modules import MODULES, module_defaults
from suite.kinds import KINDS
from suite.spec import MAX_INSERTIONS, Insertion, Spec, canonical, compact, key, parse


def kind_of(module: str) -> str:
    return MODULES.entry(module).meta["kind"]


def targets(baseline: str, kind: str) -> list[str]:
    """Point names and group names of ``baseline`` whose points all take ``kind`` modules."""
    catalog = BASELINES.entry(baseline).meta["catalog"]
    points = [p for p in catalog.names if kind in catalog.kinds[p]]
    groups = [g for g, members in catalog.groups.items() if all(kind in catalog.kinds[p] for p in members)]
    return points + sorted(groups)


def changed(value: object) -> object:
    """A value of the same type that differs from ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 if value else 0.5
    if isinstance(value, str):
        return value + "x"
    return value


def spec_texts(baseline: str) -> list[str]:
    """Valid specs of ``baseline``: each module at each fitting point or group, in each mode,
    with its defaults spelled out and with every argument changed."""
    texts = []
    for module in MODULES.list():
        kind = kind_of(module)
        defaults = module_defaults(module)
        spelled = ",".join(f"{k}={_text(v)}" for k, v in defaults.items())
        other = ",".join(f"{k}={_text(changed(v))}" for k, v in defaults.items())
        for target in targets(baseline, kind):
            for mode in KINDS[kind].modes:
                texts.append(f"{baseline}+{module}@{target}:{mode}")
                if defaults:
                    texts.append(f"{baseline}+{module}({spelled})@{target}:{mode}")
                    texts.append(f"{baseline}+{module}({other})@{target}:{mode}")
    return texts


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_parse_and_print_round_trip(baseline):
    texts = spec_texts(baseline)
    assert texts
    for text in texts:
        spec = parse(text)
        assert parse(str(spec)) == spec, text
        if "(" not in text:  # names are case-insensitive; argument values keep their case
            assert parse(text.upper()) == spec, text


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_canonical_is_a_fixed_point(baseline):
    for text in spec_texts(baseline):
        spec = canonical(text)
        assert canonical(str(spec)) == spec, text
        assert key(text) == str(spec)
        for insertion in spec.insertions:
            assert insertion.points == BASELINES.entry(baseline).meta["catalog"].expand(insertion.points)


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_compact_form_keeps_the_key_and_names_whole_groups(baseline):
    catalog = BASELINES.entry(baseline).meta["catalog"]
    for text in spec_texts(baseline):
        short = compact(text)
        assert key(short) == key(text) and len(short) <= len(key(text)), text
        for insertion in parse(short).insertions:
            named = [p for p in insertion.points if p not in catalog.groups]
            whole = [g for g, members in catalog.groups.items() if len(members) > 1 and set(members) <= set(named)]
            assert not whole, (text, short, whole)


def test_compact_form_of_the_demo_variants():
    assert compact("resnet18+se") == "resnet18+se@blocks"
    assert compact("unet+se@dec4,dec3,dec2,dec1:residual") == "unet+se@decoder:residual"
    assert compact("unet+se@dec1,dec2") == "unet+se@dec1,dec2"


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_default_points_and_mode_give_the_same_key(baseline):
    catalog = BASELINES.entry(baseline).meta["catalog"]
    for module in MODULES.list():
        kind = kind_of(module)
        if kind not in catalog.defaults:
            continue
        default = catalog.defaults[kind]
        points = catalog.expand(default)
        spelled = [
            f"{baseline.upper()}+{module.upper()}",
            f"{baseline}+{module}@{default}",
            f"{baseline}+{module}@{','.join(reversed(points))}",
            f"{baseline}+{module}@{default}:{KINDS[kind].modes[0]}",
        ]
        keys = {key(text) for text in spelled}
        assert keys == {f"{baseline}+{module}@{','.join(points)}"}, spelled


def test_unet_se_defaults_to_the_decoder():
    assert canonical("UNet+SE") == canonical("unet+se@decoder") == canonical("unet+se@dec4,dec3,dec2,dec1")
    assert key("unet+se") == "unet+se@dec1,dec2,dec3,dec4"


@pytest.mark.parametrize("module", [m for m in MODULES.list() if module_defaults(m)])
def test_arguments_equal_to_defaults_are_dropped(module):
    kind = kind_of(module)
    baseline = next(b for b in BASELINES.list() if targets(b, kind))
    point = targets(baseline, kind)[0]
    defaults = module_defaults(module)
    plain = canonical(f"{baseline}+{module}@{point}")
    spelled = ",".join(f"{k}={_text(v)}" for k, v in defaults.items())
    assert canonical(f"{baseline}+{module}({spelled})@{point}") == plain
    first, value = next(iter(defaults.items()))
    (insertion,) = canonical(f"{baseline}+{module}({first}={_text(changed(value))})@{point}").insertions
    assert insertion.kwargs == ((first, changed(value)),)


def test_values_keep_their_types():
    spec = parse("unet+se(flag=true,off=false,ratio=1.5,count=-2,name=word,text='two words',csv=\"a,b\",tiny=1e-4)")
    kwargs = dict(spec.insertions[0].kwargs)
    assert kwargs == {
        "flag": True, "off": False, "ratio": 1.5, "count": -2, "name": "word",
        "text": "two words", "csv": "a,b", "tiny": 1e-4,
    }
    assert [type(kwargs[k]) for k in ("flag", "ratio", "count", "name")] == [bool, float, int, str]
    assert parse(str(spec)) == spec
    assert list(kwargs) == sorted(kwargs), "kwargs are stored sorted"


def test_parse_keeps_insertion_order_and_structure():
    spec = parse("unet+se(rd_ratio=0.25)@enc1,dec*:residual+cbam")
    assert spec == Spec(
        "unet",
        (Insertion("se", (("rd_ratio", 0.25),), ("enc1", "dec*"), "residual"), Insertion("cbam")),
    )
    assert spec.modules == ("se", "cbam") and not spec.is_baseline and parse("unet").is_baseline


@pytest.mark.parametrize(
    ("text", "offending"),
    [
        ("unet+", 5),  # end of spec where a module name should be
        ("+se", 0),
        ("unet se", 4),
        ("unet++se", 5),
        ("unet+se@", 8),
        ("unet+se@enc1,", 13),
        ("unet+se(rd_ratio)", 16),
        ("unet+se(rd_ratio=)", 17),
        ("unet+se(rd_ratio=[1, 2])", 17),
        ("unet+se(rd_ratio=0.5", 20),
        ("unet+se:sideways", 8),
        ("unet+se(rd_ratio='half)", 17),
    ],
)
def test_syntax_errors_name_the_character(text, offending):
    with pytest.raises(SuiteError) as err:
        parse(text)
    message = str(err.value)
    assert f"at character {offending + 1}" in message and "\n" not in message
    assert "e.g. unet+se@decoder" in message


def test_unknown_baseline_lists_the_baselines():
    with pytest.raises(SuiteError) as err:
        canonical("alexnet+se")
    assert all(name in str(err.value) for name in BASELINES.list())


def test_unknown_module_lists_the_modules():
    with pytest.raises(SuiteError) as err:
        canonical("unet+nosuchmodule")
    assert all(name in str(err.value) for name in MODULES.list())


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_unknown_point_lists_points_and_groups(baseline):
    catalog = BASELINES.entry(baseline).meta["catalog"]
    with pytest.raises(SuiteError) as err:
        canonical(f"{baseline}+se@nowhere")
    message = str(err.value)
    assert "'nowhere'" in message and "\n" not in message
    assert all(name in message for name in catalog.names + list(catalog.groups))


@pytest.mark.parametrize("module", MODULES.list())
def test_unknown_argument_lists_the_modules_arguments(module):
    kind = kind_of(module)
    baseline = next(b for b in BASELINES.list() if targets(b, kind))
    with pytest.raises(SuiteError) as err:
        canonical(f"{baseline}+{module}(bogus=1)@{targets(baseline, kind)[0]}")
    message = str(err.value)
    assert "'bogus'" in message
    assert all(name in message for name in module_defaults(module)) if module_defaults(module) else "none" in message


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_kind_without_default_points_asks_for_points(baseline):
    catalog = BASELINES.entry(baseline).meta["catalog"]
    missing = [m for m in MODULES.list() if kind_of(m) not in catalog.defaults]
    if not missing:
        pytest.skip(f"{baseline} has default points for every module kind")
    for module in missing:
        with pytest.raises(SuiteError, match=f"no default point for {kind_of(module)} modules") as err:
            canonical(f"{baseline}+{module}")
        suggested = str(err.value).rsplit("e.g. ", 1)[1]
        assert canonical(suggested).modules == (module,), f"the hint {suggested} is accepted"


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_a_module_twice_at_one_point_is_refused_and_different_modules_stack(baseline):
    catalog = BASELINES.entry(baseline).meta["catalog"]
    point = next(p for p in catalog.names if "attention" in catalog.kinds[p])
    with pytest.raises(SuiteError, match=f"se is placed twice at {baseline} point '{point}'") as err:
        canonical(f"{baseline}+se@{point}+se(rd_ratio=0.5)@{point}:residual")
    assert canonical(str(err.value).rsplit("e.g. ", 1)[1]) == canonical(f"{baseline}+se@{point}")
    stacked = canonical(f"{baseline}+se@{point}+eca@{point}")
    assert stacked.modules == ("se", "eca") and canonical(str(stacked)) == stacked


def test_insertions_beyond_the_limit_are_refused_before_anything_is_resolved():
    allowed = "+".join(["unet", *(f"se@dec{i % 4 + 1}" for i in range(MAX_INSERTIONS))])
    assert len(parse(allowed).insertions) == MAX_INSERTIONS
    with pytest.raises(SuiteError, match=f"more than {MAX_INSERTIONS} insertions") as err:
        parse("resnet18" + "+se" * 5000)
    assert len(str(err.value)) < 300
