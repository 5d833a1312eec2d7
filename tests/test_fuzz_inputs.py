"""Bad input, fuzzed: prompt files, model specs, sampling parameters and store paths either work
or raise one HomogenyError (a one-line message); never another exception, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homogeny.errors import HomogenyError
from homogeny.models import parse_spec
from homogeny.models.params import SamplingParams
from homogeny.store import Store
from homogeny.suites.files import read_prompt_file

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)


def _one_line(exc: HomogenyError) -> None:
    assert str(exc) and "\n" not in str(exc)


@FUZZ
@given(data=st.binary(max_size=400))
def test_binary_prompt_files(tmp_path, data):
    path = tmp_path / "p.jsonl"
    path.write_bytes(data)
    try:
        prompts = read_prompt_file(path)
        assert all(p.text or p.messages for p in prompts)
    except HomogenyError as exc:
        _one_line(exc)


@FUZZ
@given(lines=st.lists(json_values, min_size=0, max_size=5))
def test_json_lines_of_any_shape(tmp_path, lines):
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    try:
        read_prompt_file(path)
    except HomogenyError as exc:
        _one_line(exc)


@FUZZ
@given(
    texts=st.lists(
        st.text(st.characters(categories=["Cs", "L", "Zs"]), max_size=8), min_size=1, max_size=4
    )
)
def test_prompts_with_surrogates_are_text_or_a_named_line(tmp_path, texts):
    """A lone surrogate escape ("\\ud800") is refused naming its line; whatever is accepted
    can be written as UTF-8 (the store, the tokenizer and the report all need that)."""
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": t or "x"}) for t in texts))
    try:
        prompts = read_prompt_file(path)
    except HomogenyError as exc:
        _one_line(exc)
        assert "line " in str(exc)
        return
    for prompt in prompts:
        prompt.display.encode("utf-8")


@FUZZ
@given(text=st.text(max_size=60))
def test_model_specs(text):
    try:
        parse_spec(text)
    except HomogenyError as exc:
        _one_line(exc)


@FUZZ
@given(
    t=st.floats(allow_nan=True, allow_infinity=True),
    p=st.floats(allow_nan=True),
    m=st.floats(allow_nan=True),
    k=st.integers(-5, 10),
    n=st.integers(-5, 100_000),
)
def test_sampling_parameters(t, p, m, k, n):
    try:
        SamplingParams(temperature=t, top_p=p, min_p=m, top_k=k, max_tokens=n)
    except HomogenyError as exc:
        _one_line(exc)


@FUZZ
@given(name=st.text(min_size=1, max_size=30))
def test_store_paths(tmp_path, name):
    try:
        with Store.open(tmp_path / name) as s:
            s.count("samples")
    except HomogenyError as exc:
        _one_line(exc)
    except (ValueError, OSError):  # names the OS itself cannot hold (NUL, too long)
        pass


def test_huge_line_is_a_clear_error(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "a", "prompt": "x" * 2_000_000}) + "\n")
    with pytest.raises(HomogenyError, match="line 1"):
        read_prompt_file(path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe garbage",
        b"",
        b"\n\n  \n",
        b'{"id": 1, "prompt": 5}\n',
        b"[1, 2]\n",
        b'{"messages": "hi"}\n',
    ],
)
def test_cli_bad_prompt_files_leave_the_store_intact(tmp_path, content):
    from helpers import sample_row

    store = tmp_path / "s.duckdb"
    with Store.open(store) as s:
        s.add_samples(
            [
                sample_row(
                    "k", "kept", model_sha256="x", prompt_hash="h", prompt_id="p", max_tokens=1
                )
            ]
        )
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "homogeny.cli",
            "generate",
            "--model",
            "zoo:smollm2-135m",
            "--prompts",
            str(bad),
            "--store",
            str(store),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len([x for x in proc.stderr.splitlines() if x.strip()]) == 1
    with Store.open(store, read_only=True) as s:
        assert s.samples(keys=["k"])[0]["text"] == "kept"
