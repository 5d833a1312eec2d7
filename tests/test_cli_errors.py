"""User errors: one clear line on stderr naming the input and the fix, exit code 2, no traceback,
and nothing already stored is lost."""

from __future__ import annotations

import pytest

from homogeny.store import Store
from helpers import one_error_line


def test_unknown_zoo_model_suggests_the_closest(cli, prompts, tmp_path):
    proc = cli(
        "generate",
        "--model",
        "zoo:smollm2-13m",
        "--prompts",
        str(prompts),
        "--store",
        str(tmp_path / "s.duckdb"),
    )
    one_error_line(proc, 2, "smollm2-13m", "did you mean 'smollm2-135m'")


def test_unknown_scheme(cli, prompts, tmp_path):
    proc = cli(
        "generate",
        "--model",
        "foo:bar",
        "--prompts",
        str(prompts),
        "--store",
        str(tmp_path / "s.duckdb"),
    )
    one_error_line(proc, 2, "foo:bar", "zoo:ID")


def test_missing_gguf_file(cli, prompts, tmp_path):
    proc = cli(
        "generate",
        "--model",
        "gguf:/no/such/model.gguf",
        "--prompts",
        str(prompts),
        "--store",
        str(tmp_path / "s.duckdb"),
    )
    one_error_line(proc, 2, "/no/such/model.gguf", "does not exist")


def test_corrupt_gguf_file(cli, prompts, tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    proc = cli(
        "generate",
        "--model",
        f"gguf:{bad}",
        "--prompts",
        str(prompts),
        "--store",
        str(tmp_path / "s.duckdb"),
        "--quiet",
    )
    one_error_line(proc, 2, "bad.gguf")


def test_missing_prompt_file(cli, tmp_path):
    proc = cli(
        "generate",
        "--model",
        "zoo:smollm2-135m",
        "--prompts",
        str(tmp_path / "none.jsonl"),
        "--store",
        str(tmp_path / "s.duckdb"),
    )
    one_error_line(proc, 2, "none.jsonl")


def test_malformed_prompt_line_names_the_line(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "ok"}\n{"id": "b", "prompt": \n')
    proc = cli(
        "generate",
        "--model",
        "zoo:smollm2-135m",
        "--prompts",
        str(bad),
        "--store",
        str(tmp_path / "s.duckdb"),
    )
    one_error_line(proc, 2, "line 2")


@pytest.mark.parametrize(
    "flag,value",
    [
        ("--temperature", "-1"),
        ("--top-p", "1.5"),
        ("--top-p", "0"),
        ("--min-p", "1"),
        ("--max-tokens", "0"),
        ("--samples", "0"),
        ("--seed", "-3"),
    ],
)
def test_parameter_out_of_range(cli, prompts, tmp_path, flag, value):
    proc = cli(
        "generate",
        "--model",
        "zoo:smollm2-135m",
        "--prompts",
        str(prompts),
        "--store",
        str(tmp_path / "s.duckdb"),
        flag,
        value,
    )
    one_error_line(proc, 2, flag.lstrip("-"), "range")


def test_unreachable_server_keeps_the_store(cli, prompts, tmp_path, smollm):
    store = tmp_path / "s.duckdb"
    ok = cli(
        "generate",
        "--model",
        smollm,
        "--prompts",
        str(prompts),
        "--samples",
        "2",
        "--max-tokens",
        "4",
        "--store",
        str(store),
        "--quiet",
    )
    assert ok.returncode == 0, ok.stderr
    proc = cli(
        "generate",
        "--model",
        "openai:http://127.0.0.1:9#m",
        "--prompts",
        str(prompts),
        "--store",
        str(store),
        "--quiet",
        env={"HOMOGENY_MAX_RETRIES": "1"},
    )
    one_error_line(proc, 2, "127.0.0.1:9", "unreachable")
    with Store.open(store, read_only=True) as st:
        assert st.count("samples") == 2


def test_unknown_claim(cli, tmp_path):
    proc = cli("run", "c9", "--store", str(tmp_path / "s.duckdb"))
    one_error_line(proc, 2, "c9")


@pytest.mark.parametrize("form", ["paper", "repeated"])
def test_pair_files_are_checked_before_any_work(cli, tmp_path, form):
    low, high = tmp_path / "low.txt", tmp_path / "high.txt"
    low.write_text("How many eggs are left?\nWhat does the farmer sell?\n")
    high.write_text("How many eggs remain?\n")
    flags = (
        ["--pairs", str(low), str(high)]
        if form == "paper"
        else ["--pairs", str(low), "--pairs", str(high)]
    )
    proc = cli("run", "c1", *flags, "--store", str(tmp_path / "s.duckdb"))
    one_error_line(proc, 2, "low.txt has 2 lines", "high.txt has 1", "aligned")
    assert not (
        tmp_path / "s.duckdb"
    ).exists()  # rejected before a store was opened or a model loaded


def test_pairs_belong_to_c1(cli, tmp_path):
    proc = cli("run", "c4", "--pairs", "a.txt", "b.txt", "--store", str(tmp_path / "s.duckdb"))
    one_error_line(proc, 2, "--pairs", "c1")


def test_export_of_missing_store(cli, tmp_path):
    proc = cli("export", "--store", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path / "o"))
    one_error_line(proc, 2, "missing.duckdb", "does not exist")


def test_models_json_lists_the_zoo(cli):
    import json

    proc = cli("models", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    ids = {r["id"] for r in rows}
    assert ids == {
        "smollm2-135m",
        "gemma3-270m",
        "qwen2.5-coder-0.5b",
        "qwen2.5-coder-1.5b",
        "minilm-l6",
    }
    for r in rows:
        assert {
            "id",
            "family",
            "params",
            "bytes",
            "kind",
            "quantization",
            "installed",
            "sha256_ok",
        } <= set(r)
        if r["installed"] and not r["optional"]:
            assert r["sha256_ok"] is True
