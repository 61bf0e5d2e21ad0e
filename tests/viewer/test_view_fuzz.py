"""Property: any bundle that still validates after optional fields are deleted never crashes the viewer."""
from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from viewer_helpers import PARTIALS, bundle, render

from phr.importer.fhir import ImportRejected, validate_bundle
from phr.view import build_view, item_keys, merge_views

SAMPLES = ("mhb/scenario.json", "mhb/full.json", "fhir/valid-collection.json")
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every dict key below ``node`` as a path of keys and list indexes."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if prefix or key not in ("resourceType", "id"):
                found.append((*prefix, key))
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _delete(resource: dict, path: tuple) -> None:
    node = resource
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]


@st.composite
def trimmed_bundles(draw):
    source = bundle(draw(st.sampled_from(SAMPLES)))
    entries = source["entry"]
    for _ in range(draw(st.integers(1, 12))):
        resource = entries[draw(st.integers(0, len(entries) - 1))]["resource"]
        paths = _paths(resource)
        if paths:
            _delete(resource, draw(st.sampled_from(paths)))
    hidden = draw(st.sets(st.sampled_from([e["fullUrl"] for e in entries]), max_size=4))
    return source, frozenset(hidden)


@SETTINGS
@given(trimmed_bundles())
def test_trimmed_valid_bundles_never_crash_view_or_partials(case):
    source, hidden = case
    try:
        validate_bundle(source)
    except ImportRejected:
        assume(False)
    view = build_view(source, record_id="r", author="Dr X", hidden=hidden)
    keys = {key for key, _, _ in item_keys(source)}
    shown = {v.key for v in view.visits} | {m.key for m in view.medications} | {lab.key for lab in view.labs}
    assert not shown & hidden and shown <= keys
    merged = merge_views([view, build_view(source, record_id="s")])
    for partial in PARTIALS:
        assert "<section" in render(partial, view)
        render(partial, merged)
