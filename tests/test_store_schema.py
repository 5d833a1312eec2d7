"""The store's layout: a schema version checked on open, old stores migrated in place, newer,
foreign and mismatched stores refused with one line, empty or half-created ones initialised,
inserts by column name."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from homogeny.errors import StoreError
from homogeny.store import SCHEMA_VERSION, SampleRow, Store
from helpers import sample_row

# The layout of stores written before the schema was versioned (version 1), verbatim.
V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, command VARCHAR, args_json VARCHAR,
    homogeny_version VARCHAR, started_at DOUBLE, finished_at DOUBLE, status VARCHAR);
CREATE TABLE IF NOT EXISTS models (model_sha256 VARCHAR PRIMARY KEY, model_id VARCHAR,
    spec VARCHAR, backend VARCHAR, info_json VARCHAR);
CREATE TABLE IF NOT EXISTS prompts (prompt_hash VARCHAR PRIMARY KEY, prompt_id VARCHAR,
    text VARCHAR, messages_json VARCHAR);
CREATE TABLE IF NOT EXISTS samples (key VARCHAR PRIMARY KEY, run_id VARCHAR, model_id VARCHAR,
    model_sha256 VARCHAR, prompt_hash VARCHAR, prompt_id VARCHAR, sample_index INTEGER,
    seed BIGINT, temperature DOUBLE, top_p DOUBLE, min_p DOUBLE, top_k INTEGER,
    max_tokens INTEGER, chat BOOLEAN, params_json VARCHAR, text VARCHAR, token_ids INTEGER[],
    logprobs DOUBLE[], top_logprobs_json VARCHAR, finish_reason VARCHAR,
    n_prompt_tokens INTEGER, n_tokens INTEGER, gen_seconds DOUBLE, created_at DOUBLE);
CREATE TABLE IF NOT EXISTS embeddings (embed_model VARCHAR, text_hash VARCHAR, vector FLOAT[],
    PRIMARY KEY (embed_model, text_hash));
CREATE TABLE IF NOT EXISTS evidence (evidence_id VARCHAR PRIMARY KEY, run_id VARCHAR,
    claim VARCHAR, question VARCHAR, metric VARCHAR, sign VARCHAR, effect DOUBLE, ci_low DOUBLE,
    ci_high DOUBLE, n INTEGER, verdict VARCHAR, rule VARCHAR, models VARCHAR, quick BOOLEAN,
    plot_json VARCHAR, created_at DOUBLE);
CREATE TABLE IF NOT EXISTS artifacts (claim VARCHAR, name VARCHAR, run_id VARCHAR,
    data_json VARCHAR, created_at DOUBLE, PRIMARY KEY (claim, name));
"""


def _row(key: str, text: str = "hello") -> SampleRow:
    return sample_row(key, text, temperature=0.7, top_p=0.9)


def _sql(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    for s in statements:
        con.execute(s)
    con.close()


def _version(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    found = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    con.close()
    return int(found[0])


@pytest.fixture
def v1_store(tmp_path: Path) -> Path:
    """A store as homogeny wrote it before versioning: one done run, one left running, a sample."""
    path = tmp_path / "old.duckdb"
    _sql(
        path,
        V1_SCHEMA,
        "INSERT INTO runs VALUES ('r1', 'run c4', '{\"quick\": true, \"seed\": 3}', '0.1.0', "
        "1.0, 2.0, 'done')",
        "INSERT INTO runs VALUES ('r2', 'generate', '{}', '0.1.0', 3.0, NULL, 'running')",
        "INSERT INTO samples (key, run_id, model_id, text, temperature) "
        "VALUES ('k0', 'r1', 'm', 'old text', 0.5)",
    )
    return path


def test_new_store_is_stamped_with_the_schema_version(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as st:
        st.add_samples([_row("a")])
    assert _version(tmp_path / "s.duckdb") == SCHEMA_VERSION


def test_unversioned_store_is_migrated_in_place(v1_store: Path) -> None:
    with Store.open(v1_store) as st:
        runs = {r["run_id"]: r for r in st.runs()}
        assert runs["r1"]["claim"] == "c4" and runs["r1"]["status"] == "done"
        assert json.loads(runs["r1"]["settings_json"]) == {"quick": True, "seed": 3}
        assert runs["r2"]["status"] == "abandoned"  # its version-1 process cannot be live
        assert st.latest_done_settings(["run c4"]) == {"quick": True, "seed": 3}
        assert st.samples(keys=["k0"])[0]["text"] == "old text"
        st.begin_run("run c2", {"quick": False})
        st.add_samples([_row("k1", "new text")])
        assert st.run()["claim"] == "c2" and st.run()["pid"] > 0
        assert {r["key"]: r["text"] for r in st.samples()} == {"k0": "old text", "k1": "new text"}
    assert _version(v1_store) == SCHEMA_VERSION


def test_read_only_open_of_an_old_store_upgrades_it_once(v1_store: Path) -> None:
    with Store.open(v1_store, read_only=True) as st:
        assert {r["claim"] for r in st.runs()} == {"c4", None}
        assert st.count("samples") == 1
    assert _version(v1_store) == SCHEMA_VERSION


def test_store_from_a_newer_homogeny_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    _sql(path, f"UPDATE meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    for read_only in (False, True):
        with pytest.raises(StoreError, match=r"schema version \d+, newer .* upgrade homogeny"):
            Store.open(path, read_only=read_only)


def test_foreign_duckdb_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "theirs.duckdb"
    _sql(path, "CREATE TABLE orders (id INTEGER, total DOUBLE)", "INSERT INTO orders VALUES (1, 2)")
    for read_only in (False, True):
        with pytest.raises(StoreError, match="not a homogeny store .*orders"):
            Store.open(path, read_only=read_only)
    con = duckdb.connect(str(path), read_only=True)
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    con.close()
    assert tables == {"orders"}


def test_foreign_table_named_like_ours_is_refused_without_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "theirs.duckdb"
    _sql(path, "CREATE TABLE samples (id INTEGER, body VARCHAR)")
    with pytest.raises(StoreError, match="table samples lacks column"):
        Store.open(path)
    con = duckdb.connect(str(path), read_only=True)
    assert {r[0] for r in con.execute("SHOW TABLES").fetchall()} == {"samples"}  # rolled back
    con.close()


@pytest.mark.parametrize("read_only", [False, True])
def test_empty_duckdb_file_is_initialised(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "killed.duckdb"
    duckdb.connect(str(path)).close()  # a store killed before its tables existed
    with Store.open(path, read_only=read_only) as st:
        assert st.count("samples") == 0 and st.evidence() == [] and st.runs() == []
    assert _version(path) == SCHEMA_VERSION


def test_zero_byte_file_is_initialised(tmp_path: Path) -> None:
    path = tmp_path / "zero.duckdb"
    path.touch()
    with Store.open(path) as st:
        st.add_samples([_row("a")])
        assert st.count("samples") == 1


def test_half_created_store_is_completed(tmp_path: Path) -> None:
    path = tmp_path / "half.duckdb"
    _sql(path, V1_SCHEMA.split(";")[0])  # killed after its first table
    with Store.open(path) as st:
        st.begin_run("run c1", {})
        st.add_samples([_row("a")])
        assert st.count("artifacts") == 0 and st.run()["claim"] == "c1"


def test_values_go_into_their_own_columns_whatever_the_column_order(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    _sql(
        path,
        "ALTER TABLE samples ADD COLUMN note VARCHAR",  # an extra column
        "ALTER TABLE runs ADD COLUMN owner VARCHAR",
        "ALTER TABLE prompts ADD COLUMN x INTEGER",
    )
    with Store.open(path) as st:
        st.begin_run("generate", {"seed": 1})
        st.upsert_prompt("ph", "p1", "prompt text", "[]")
        st.add_samples([_row("a", "the text")])
        row = st.samples(keys=["a"])[0]
        assert row["text"] == "the text" and row["note"] is None and row["temperature"] == 0.7
        assert row["created_at"] > 1e9 and row["run_id"] == st.run_id
        st.finish_run()
        assert st.run()["status"] == "done"


def test_reordered_samples_table_keeps_every_value_in_place(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    con = duckdb.connect(str(path))
    cols = [(r[0], r[1]) for r in con.execute("DESCRIBE samples").fetchall()]
    defs = [f'"{c}" {t}' + (" PRIMARY KEY" if c == "key" else "") for c, t in reversed(cols)]
    con.execute(f"CREATE TABLE s2 ({', '.join(defs)})")
    con.execute("DROP TABLE samples")
    con.execute("ALTER TABLE s2 RENAME TO samples")
    con.close()
    with Store.open(path) as st:
        st.add_samples([_row("a", "the text")])
        row = st.samples(keys=["a"])[0]
    assert (row["key"], row["text"], row["seed"], row["top_p"]) == ("a", "the text", 1, 0.9)


@pytest.mark.parametrize("read_only", [False, True])
def test_dropped_and_added_sample_column_is_refused_naming_them(
    tmp_path: Path, read_only: bool
) -> None:
    path = tmp_path / "s.duckdb"
    with Store.open(path) as st:
        st.add_samples([_row("a")])
    _sql(
        path,
        "ALTER TABLE samples DROP COLUMN created_at",
        "ALTER TABLE samples ADD COLUMN stamp DOUBLE",
    )
    with pytest.raises(StoreError, match="table samples lacks column.* created_at.* stamp"):
        Store.open(path, read_only=read_only)


@pytest.mark.parametrize("read_only", [False, True])
def test_renamed_text_column_is_one_line(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "s.duckdb"
    with Store.open(path) as st:
        st.add_samples([_row("a")])
    _sql(path, "ALTER TABLE samples RENAME COLUMN text TO body")
    with pytest.raises(StoreError, match="table samples lacks column.* text.* body") as err:
        Store.open(path, read_only=read_only)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_cli_on_damaged_stores_prints_one_line_and_exits_2(tmp_path: Path, cli) -> None:
    renamed = tmp_path / "renamed.duckdb"
    with Store.open(renamed) as st:
        st.add_samples([_row("a")])
    _sql(renamed, "ALTER TABLE samples RENAME COLUMN text TO body")
    foreign = tmp_path / "foreign.duckdb"
    _sql(foreign, "CREATE TABLE t (a INTEGER)")
    for store, command in ((renamed, "report"), (renamed, "export"), (foreign, "export")):
        out = tmp_path / f"out-{command}"
        proc = cli(command, "--store", str(store), "--out", str(out), timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert str(store) in proc.stderr


def test_cli_export_and_report_of_an_empty_duckdb_file_work(tmp_path: Path, cli) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    proc = cli("export", "--store", str(path), "--out", str(tmp_path / "x"), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "x" / "samples.jsonl").exists()
    assert "Traceback" not in proc.stderr
