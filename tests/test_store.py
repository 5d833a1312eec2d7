"""The run store: schema, idempotent writes, export, clear errors on bad paths and locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from homogeny.errors import StoreError
from homogeny.experiments.base import make_evidence
from homogeny.store import SampleRow, Store


def _row(key: str, text: str = "hello") -> SampleRow:
    return SampleRow(
        key=key, model_id="m", model_sha256="sha", prompt_hash="ph", prompt_id="p1", sample_index=0,
        seed=1, temperature=1.0, top_p=1.0, min_p=0.0, top_k=0, max_tokens=8, chat=True,
        params_json="{}", text=text, token_ids=[1, 2], logprobs=[-0.1, -0.2],
    )


def test_samples_are_written_once_per_key(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as st:
        st.add_samples([_row("a"), _row("b")])
        st.add_samples([_row("a", "different text")])  # same key: skipped, not overwritten
        assert st.count("samples") == 2
        assert {r["text"] for r in st.samples(keys=["a"])} == {"hello"}
        assert st.existing_keys(["a", "z"]) == {"a"}


def test_export_writes_one_file_per_table_with_key_and_text(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as st:
        st.begin_run("test", {})
        st.add_samples([_row("a")])
        st.add_evidence([make_evidence("c4", "q", "m", "s", 0.5, (0.4, 0.6), 10).as_row()])
        paths = st.export(tmp_path / "out", "jsonl")
        pq = st.export(tmp_path / "pq", "parquet")
    names = {p.name for p in paths}
    assert {"samples.jsonl", "evidence.jsonl", "runs.jsonl", "models.jsonl"} <= names
    line = json.loads((tmp_path / "out" / "samples.jsonl").read_text().splitlines()[0])
    assert line["key"] == "a" and line["text"] == "hello"
    assert all(p.exists() and p.stat().st_size > 0 for p in pq)


def test_read_only_store_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "nope.duckdb", read_only=True)


def test_store_in_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "no" / "such" / "s.duckdb")


def test_directory_as_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        Store.open(tmp_path)


def test_garbage_file_as_store_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store.open(bad)
    assert bad.read_bytes().startswith(b"this is not a database")  # left untouched


def test_second_writer_process_gets_a_clear_error(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store.open(path) as st:
        st.add_samples([_row("a")])
        code = (
            "import sys\nfrom homogeny.store import Store\nfrom homogeny.errors import StoreError\n"
            f"try:\n    Store.open({str(path)!r})\nexcept StoreError as e:\n    print(e); sys.exit(2)\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "in use by another homogeny process" in proc.stdout
    with Store.open(path) as st:
        assert st.count("samples") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_is_a_clear_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(StoreError, match="not writable"):
        Store.open(ro / "s.duckdb")


@pytest.fixture
def tiny_mount(tmp_path):
    """A 1 MiB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True, check=False)


def test_full_disk_is_a_clear_error_and_keeps_what_was_stored(tiny_mount, tmp_path):
    path = tiny_mount / "s.duckdb"
    stored = 0
    with pytest.raises(StoreError, match="disk full|cannot"), Store.open(path) as st:
        for i in range(10_000):
            st.add_samples([_row(f"k{i}", "x" * 2000)])
            stored += 1
    assert stored > 0
    copy = tmp_path / "copy.duckdb"
    subprocess.run(["cp", str(path), str(copy)], check=True)
    if (tiny_mount / "s.duckdb.wal").exists():
        subprocess.run(["cp", str(tiny_mount / "s.duckdb.wal"), str(copy) + ".wal"], check=True)
    with Store.open(copy, read_only=True) as st:
        assert st.count("samples") >= stored - 1


def test_read_only_mount_is_a_clear_error(tiny_mount):
    with Store.open(tiny_mount / "s.duckdb") as st:
        st.add_samples([_row("a")])
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_mount)], check=True)
    with pytest.raises(StoreError, match="read-only|not writable|cannot"):
        Store.open(tiny_mount / "s.duckdb")
    with Store.open(tiny_mount / "s.duckdb", read_only=True) as st:
        assert st.count("samples") == 1
