"""`homogeny import`: generations made elsewhere become samples of `imported:NAME` in a real
DuckDB store, with provenance and NoveltyBench's partitions; stable keys (twice adds nothing, a
killed import resumes), one line and exit 2 for bad input, and `distinct` exactly as
NoveltyBench defines it. The tests on NoveltyBench's released data skip when ../shared/data is
absent (a fresh clone has none)."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from homogeny.errors import HomogenyError
from homogeny.importing import capabilities
from homogeny.importing.distinct import classes, score_partitions
from homogeny.importing.load import import_files
from homogeny.importing.sources import ImportInputError
from homogeny.models import CapabilityError, model_info, open_backend, parse_spec
from homogeny.store import Store

NOVELTYBENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "noveltybench"
needs_data = pytest.mark.skipif(
    not (NOVELTYBENCH / "generations").is_dir(), reason="../shared/data/noveltybench is absent"
)
TABLES = ("samples", "annotations", "provenance", "models", "prompts")


def nb_row(pid: str, model: str, texts: list, partition: list[int] | None = None) -> dict:
    row = {"id": pid, "prompt": f"Prompt {pid}?", "model": model, "generations": texts}
    if partition is not None:
        row |= {"partition": partition, "distinct": max(partition)}
    return row


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def nb_file(tmp_path: Path) -> Path:
    """Two prompts x 4 generations of one model: 2 classes and 4 classes."""
    return write_jsonl(tmp_path / "scores.jsonl", [
        nb_row("p1", "acme/m-1b", ["a", "a!", "b", "a"], [0, 0, 1, 0]),
        nb_row("p2", "acme/m-1b", ["w", "x", "y", "z"], [0, 1, 2, 3]),
    ])  # fmt: skip


def counts(store: Path) -> dict[str, int]:
    with Store.open(store, read_only=True) as st:
        return {t: st.count(t) for t in TABLES}


def test_noveltybench_rows_become_imported_samples_with_provenance(nb_file, tmp_path):
    store = tmp_path / "s.duckdb"
    summary = import_files([nb_file], str(store))
    assert (summary.samples, summary.new, summary.files) == (8, 8, 1)
    with Store.open(store, read_only=True) as st:
        rows = st.samples()
        assert {r["model_id"] for r in rows} == {"imported:acme/m-1b"}
        assert sorted(r["sample_index"] for r in rows if r["prompt_id"] == "p1") == [0, 1, 2, 3]
        where = st.provenance([r["key"] for r in rows])
        parts = {(a["prompt_id"], a["sample_index"]): a["value"]
                 for a in st.annotations("noveltybench_partition")}  # fmt: skip
        (model,) = st.models()
    assert {w["source"] for w in where} == {str(nb_file.resolve())}
    assert {w["source_sha256"] for w in where} == {hashlib.sha256(nb_file.read_bytes()).hexdigest()}
    assert sorted({w["line"] for w in where}) == [1, 2]
    assert parts[("p1", 2)] == "1" and parts[("p2", 3)] == "3"
    assert model["backend"] == "imported" and model["spec"] == "imported:acme/m-1b"


def test_importing_twice_adds_nothing(nb_file, tmp_path):
    store = tmp_path / "s.duckdb"
    import_files([nb_file], str(store))
    before = counts(store)
    with Store.open(store, read_only=True) as st:
        runs = len(st.runs())
    again = import_files([nb_file, nb_file.parent], str(store))
    assert again.new == 0 and counts(store) == before
    with Store.open(store, read_only=True) as st:
        assert len(st.runs()) == runs  # nothing new: not even a run row


def test_a_partial_import_resumes_without_duplicates(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [nb_row("p1", "m", ["x", "y"], [0, 1])])
    both = write_jsonl(tmp_path / "b.jsonl", [nb_row("p1", "m", ["x", "y"], [0, 1]),
                                              nb_row("p2", "m", ["u", "v"], [0, 0])])  # fmt: skip
    store = tmp_path / "s.duckdb"
    import_files([a], str(store))
    summary = import_files([both], str(store))
    assert (summary.new, counts(store)["samples"]) == (2, 4)


@pytest.mark.slow
def test_a_killed_import_resumes_with_no_duplicate(tmp_path):
    rows = [nb_row(f"p{i}", f"m{i % 7}", [f"text {i} {j} " * 20 for j in range(10)],
                   list(range(10))) for i in range(3000)]  # fmt: skip
    data = write_jsonl(tmp_path / "big.jsonl", rows)
    store = tmp_path / "s.duckdb"
    cmd = [sys.executable, "-m", "homogeny.cli", "import", str(data), "--store", str(store)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(6)  # wherever this lands (reading, mid-batch, done), a rerun must complete it
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with Store.open(store, read_only=True) as st:
        assert st.count("samples") == 30_000 and st.count("provenance") == 30_000
        assert st.query("SELECT count(DISTINCT key) AS n FROM samples")[0]["n"] == 30_000


def test_generic_jsonl_with_groups_and_sampling_params(tmp_path):
    rows = [
        {"model": "gpt-x", "prompt_id": "q1", "prompt": "Name a colour.", "text": "Red",
         "temperature": 0.7, "seed": 5},
        {"model": "gpt-x", "prompt_id": "q1", "prompt": "Name a colour.", "text": "Blue"},
        {"model": "gpt-x", "prompt_id": "q1", "prompt": "Name a colour.", "text": "Red",
         "group": "paraphrase", "sample_index": 3},
    ]  # fmt: skip
    store = tmp_path / "s.duckdb"
    import_files([write_jsonl(tmp_path / "g.jsonl", rows)], str(store))
    with Store.open(store, read_only=True) as st:
        got = {(r["model_id"], r["sample_index"]): r for r in st.samples()}
        groups = [a["value"] for a in st.annotations("group")]
    assert set(got) == {("imported:gpt-x", 0), ("imported:gpt-x", 1),
                        ("imported:gpt-x[paraphrase]", 3)}  # fmt: skip
    first = got[("imported:gpt-x", 0)]
    assert (first["temperature"], first["seed"], first["text"]) == (0.7, 5, "Red")
    assert groups == ["paraphrase"]


def test_noveltybench_arm_files_become_arm_models(tmp_path):
    arm = write_jsonl(tmp_path / "gpt-4o-paraphrase.jsonl", [nb_row("p1", "gpt-4o", ["a"], [0])])
    plain = write_jsonl(tmp_path / "gpt-4o.jsonl", [nb_row("p1", "gpt-4o", ["a"], [0])])
    store = tmp_path / "s.duckdb"
    assert import_files([arm, plain], str(store)).new == 2  # same text, different arms
    with Store.open(store, read_only=True) as st:
        assert {m["model_id"] for m in st.models()} == {
            "imported:gpt-4o",
            "imported:gpt-4o[paraphrase]",
        }


def test_model_metadata_shipped_and_overridden(tmp_path):
    data = write_jsonl(
        tmp_path / "x.jsonl",
        [
            nb_row("p1", "google/gemma-2-9b-it", ["a"], [0]),
            nb_row("p1", "gemma-3-4b-it", ["a"], [0]),
        ],
    )
    meta = tmp_path / "models.toml"
    meta.write_text('[models."gemma-3-4b-it"]\nfamily = "gemma-3"\nparams = 4e9\n'
                    'kind = "instruct"\nvendor = "google"\n')  # fmt: skip
    store = tmp_path / "s.duckdb"
    import_files([data], str(store), meta=meta)
    with Store.open(store, read_only=True) as st:
        info = {m["model_id"]: json.loads(m["info_json"]) for m in st.models()}
    assert info["imported:google/gemma-2-9b-it"]["family"] == "gemma-2"
    assert info["imported:google/gemma-2-9b-it"]["params"] == 9_240_000_000
    assert info["imported:gemma-3-4b-it"]["family"] == "gemma-3"
    assert info["imported:gemma-3-4b-it"]["params"] == 4_000_000_000


def test_bad_meta_file_is_one_line(tmp_path, nb_file):
    meta = tmp_path / "m.toml"
    meta.write_text('[models."x"]\nsize = 4e9\n')
    with pytest.raises(HomogenyError, match="unknown field 'size'"):
        import_files([nb_file], str(tmp_path / "s.duckdb"), meta=meta)


def test_imported_spec_has_texts_only():
    spec = parse_spec("imported:gpt-4o-2024-11-20")
    assert (spec.scheme, spec.short, str(spec)) == ("imported", "gpt-4o-2024-11-20",
                                                    "imported:gpt-4o-2024-11-20")  # fmt: skip
    assert model_info(spec).backend == "imported"
    for need in ("generate", "score", "hidden_states"):
        with pytest.raises(CapabilityError, match="not testable on imported texts"):
            with open_backend(spec, need):
                pass
    assert capabilities.can("imported:x", "texts") and not capabilities.can(
        "imported:x", "logprobs"
    )
    assert "not testable on imported texts" in capabilities.why_not("imported:x", "hidden_states")
    assert capabilities.why_not("zoo:smollm2-135m", "logprobs") == ""
    with pytest.raises(HomogenyError):
        parse_spec("imported:")


def test_distinct_counts_classes_not_the_row_field(nb_file, tmp_path):
    assert classes([0, 0, 0]) == 1 and classes([0, 1, 2, 1]) == 3
    store = tmp_path / "s.duckdb"
    import_files([nb_file], str(store))
    with Store.open(store, read_only=True) as st:
        result = score_partitions(st, "model_id")
    group = result["groups"]["imported:acme/m-1b"]
    assert group["value"] == pytest.approx(3.0)  # (2 + 4) / 2; the rows' `distinct` say 1 and 3
    assert group["n_units"] == 2


def test_distinct_without_partitions_is_one_line(tmp_path):
    data = write_jsonl(tmp_path / "g.jsonl", [{"model": "m", "prompt_id": "q", "prompt": "P",
                                               "text": "t"}])  # fmt: skip
    store = tmp_path / "s.duckdb"
    import_files([data], str(store))
    with Store.open(store, read_only=True) as st, pytest.raises(HomogenyError, match="partition"):
        score_partitions(st)


BAD_INPUTS = {
    "malformed": ('{"id": "a", "prompt": "p", "model": "m", "generations": ["x"]}\n{oops\n',
                  "malformed.jsonl:2"),
    "nonstring": ('{"id": "a", "prompt": "p", "model": "m", "generations": ["x", 3]}\n',
                  "nonstring.jsonl:1: generations[1]"),
    "missing": ('{"model": "m", "prompt_id": "q", "text": "t"}\n', "missing.jsonl:1: missing"),
    "unknown": ('{"foo": 1}\n', "unknown.jsonl:1: unknown format"),
    "empty": ("", "empty.jsonl: empty file"),
    "binary": (b"\x00\x01\x02GGUF", "binary.jsonl:1: binary"),
    "partition": ('{"id": "a", "prompt": "p", "model": "m", "generations": ["x"], '
                  '"partition": [0, 1]}\n', "partition.jsonl:1: partition"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_named_by_file_and_line(name, tmp_path, nb_file):
    content, needle = BAD_INPUTS[name]
    bad = tmp_path / f"{name}.jsonl"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    store = tmp_path / "s.duckdb"
    import_files([nb_file], str(store))
    before = counts(store)
    fresh = write_jsonl(tmp_path / "fresh.jsonl", [nb_row("p9", "other", ["new"], [0])])
    with pytest.raises(ImportInputError, match=needle.replace("[", r"\[")):
        import_files([fresh, bad], str(store))  # the good file before it is not stored either
    assert counts(store) == before


def test_cli_bad_input_exits_2_with_one_line_and_no_store(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "p", "model": "m", "generations": [null]}\n')
    store = tmp_path / "s.duckdb"
    proc = cli("import", str(bad), "--store", str(store))
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr
    assert "bad.jsonl:1: generations[0] is null" in lines[0]
    assert not store.exists()
    proc = cli("import", str(bad), "--format", "xml", "--store", str(store))
    assert proc.returncode == 2 and "unknown format 'xml'" in proc.stderr


def test_cli_import_then_metrics_distinct(cli, nb_file, tmp_path):
    store = tmp_path / "s.duckdb"
    proc = cli("import", str(nb_file), "--store", str(store))
    assert proc.returncode == 0 and "8 new" in proc.stdout, proc.stderr
    proc = cli("metrics", "--store", str(store), "--metric", "distinct", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["groups"]["imported:acme/m-1b"]["value"] == 3.0


@needs_data
def test_noveltybench_generations_import_once_and_match_published_distinct(tmp_path):
    store = tmp_path / "nb.duckdb"
    first = import_files([NOVELTYBENCH / "generations"], str(store))
    assert (first.samples, first.new, len(first.models)) == (20_000, 20_000, 20)
    before = counts(store)
    assert import_files([NOVELTYBENCH / "generations"], str(store)).new == 0
    assert counts(store) == before
    with Store.open(store, read_only=True) as st:
        got = score_partitions(st, "model_id")["groups"]
    for summary in (NOVELTYBENCH / "generations").glob("*/*/summary.json"):
        rows = [json.loads(line) for line in summary.with_name("scores.jsonl").open()]
        model = f"imported:{rows[0]['model']}"
        published = json.loads(summary.read_text())["mean_distinct"]
        assert got[model]["value"] == pytest.approx(published, abs=0.01), model
        row_field = sum(r["distinct"] for r in rows) / len(rows)  # classes minus one
        assert got[model]["value"] - row_field == pytest.approx(1.0)


@needs_data
def test_noveltybench_arms_and_humans_import(tmp_path):
    store = tmp_path / "nb.duckdb"
    summary = import_files([NOVELTYBENCH / "sample_data"], str(store))
    assert set(summary.models) == {
        "imported:gpt-4o-2024-11-20", "imported:gpt-4o-2024-11-20[in-context]",
        "imported:gpt-4o-2024-11-20[paraphrase]", "imported:gpt-4o-2024-11-20[system-prompt]",
        "imported:human",
    }  # fmt: skip
    with Store.open(store, read_only=True) as st:
        got = score_partitions(st, "model_id")["groups"]
        info = {m["model_id"]: json.loads(m["info_json"]) for m in st.models()}
    assert got["imported:human"]["value"] > got["imported:gpt-4o-2024-11-20"]["value"]
    assert info["imported:human"]["kind"] == "human"


@needs_data
def test_noveltybench_size_ladders(tmp_path):
    from homogeny.importing.stored import imported_models, ladders

    store = tmp_path / "nb.duckdb"
    import_files([NOVELTYBENCH / "generations" / d for d in ("meta-llama", "google")], str(store))
    with Store.open(store, read_only=True) as st:
        found = ladders(imported_models(st))
    assert [len(found[f]) for f in ("gemma-2", "llama-3")] == [3, 5]
    assert found["llama-3"][-1].model_id == "imported:meta/llama-3.1-405b-instruct-maas"


def test_stored_models_ladders_and_partitions(tmp_path):
    from homogeny.importing.stored import imported_models, ladders, partitions

    rows = [nb_row("p1", name, ["a", "b", "a"], [0, 1, 0]) for name in (
        "meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B-Instruct",
        "meta-llama/Llama-3.1-8B-Instruct", "gpt-4o-2024-11-20", "human")]  # fmt: skip
    data = write_jsonl(tmp_path / "x.jsonl", rows)
    arm = write_jsonl(tmp_path / "m-paraphrase.jsonl", [rows[0]])
    store = tmp_path / "s.duckdb"
    import_files([data, arm], str(store))
    with Store.open(store, read_only=True) as st:
        models = imported_models(st)
        draws = partitions(st)
    ladder = ladders(models)
    assert list(ladder) == ["llama-3"]  # the arm and the unsized models stay out
    assert [m.params for m in ladder["llama-3"]] == [1_240_000_000, 3_210_000_000, 8_030_000_000]
    assert {m.kind for m in models if m.model == "human"} == {"human"}
    assert draws[("imported:human", "p1")] == [0, 1, 0]
    assert draws[("imported:meta-llama/Llama-3.2-1B-Instruct[paraphrase]", "p1")] == [0, 1, 0]
