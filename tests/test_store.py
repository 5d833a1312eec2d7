"""The run store: schema, idempotent writes, export, clear errors on bad paths and locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from homogeny.errors import StoreError
from homogeny.experiments.base import make_evidence
from homogeny.store import Store
from helpers import sample_row as _row


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
            f"try:\n    Store.open({str(path)!r})\n"
            "except StoreError as e:\n    print(e); sys.exit(2)\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
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
    if (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
            capture_output=True,
            check=False,
        ).returncode
        != 0
    ):
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


# ---- runs: claim and process recorded, interrupts, abandoned runs -----------------------------
def _status(path, run_id: str) -> str:
    with Store.open(path, read_only=True) as st:
        return st.run(run_id)["status"]


def test_run_records_claim_settings_and_process(tmp_path):
    import socket

    with Store.open(tmp_path / "s.duckdb") as st:
        st.begin_run("audit c3", {"quick": True, "models": ["a", "b"]})
        st.finish_run("done")
        run = st.run()
    assert run["claim"] == "c3" and json.loads(run["settings_json"])["models"] == ["a", "b"]
    assert run["pid"] == os.getpid() and run["hostname"] == socket.gethostname()
    assert run["finished_at"] >= run["started_at"] and run["status"] == "done"


def test_interrupt_inside_a_transaction_rolls_back_and_marks_the_run(tmp_path):
    from homogeny.store import queries

    with Store.open(tmp_path / "s.duckdb") as st:
        run_id = st.begin_run("generate", {})
        st.add_samples([_row("a")])
        with pytest.raises(KeyboardInterrupt), st.transaction():
            queries.insert(st.con, "samples", [_row("b").as_record(), _row("c").as_record()])
            raise KeyboardInterrupt  # Ctrl-C between the insert and COMMIT
        assert st.existing_keys(["a", "b", "c"]) == {"a"}
        st.add_samples([_row("d")])  # the connection is usable again
    assert _status(tmp_path / "s.duckdb", run_id) == "interrupted"


def test_interrupted_query_inside_a_commit_leaves_no_half_batch(tmp_path):
    """A real SIGINT while DuckDB inserts a batch (it raises "Query interrupted"): rolled back,
    the run marked interrupted, and the process leaves with KeyboardInterrupt."""
    path = tmp_path / "s.duckdb"
    code = (
        "import os, signal, sys, threading\n"
        "from homogeny.store import SampleRow, Store, queries\n"
        f"st = Store.open({str(path)!r})\n"
        "print(st.begin_run('generate', {}), flush=True)\n"
        "rows = [SampleRow(key=f'k{i}', model_id='m', model_sha256='s', prompt_hash='p',"
        " prompt_id='p', sample_index=i, seed=i, temperature=1.0, top_p=1.0, min_p=0.0, top_k=0,"
        " max_tokens=8, chat=True, params_json='{}', text='x').as_record()"
        " for i in range(20_000)]\n"
        "threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "try:\n    with st.transaction():\n        queries.insert(st.con, 'samples', rows)\n"
        "except KeyboardInterrupt:\n    sys.exit(130)\n"
        "print('finished before the signal')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    run_id = proc.stdout.split()[0]
    if proc.returncode != 130:
        pytest.skip(f"the insert finished before SIGINT ({proc.stdout.strip()!r})")
    assert "Traceback" not in proc.stderr
    with Store.open(path) as st:
        assert st.count("samples") == 0
        assert st.run(run_id)["status"] == "interrupted"


def test_finish_run_after_an_aborted_transaction(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as st:
        run_id = st.begin_run("generate", {})
        st.add_samples([_row("a")])
        st.con.execute("BEGIN TRANSACTION")
        with pytest.raises(Exception):
            st.con.execute("INSERT INTO samples (key) VALUES ('a')")  # duplicate: aborts it
        st.finish_run("interrupted")
    assert _status(tmp_path / "s.duckdb", run_id) == "interrupted"


def _start_holder(path, close_store: bool):
    code = (
        "import sys, time\nfrom homogeny.store import Store\n"
        f"st = Store.open({str(path)!r})\n"
        "run_id = st.begin_run('run c4', {'quick': True})\n"
        + ("st.close()\n" if close_store else "")
        + "print(run_id, flush=True)\ntime.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    assert run_id, "the helper process did not start a run"
    return proc, run_id


def test_run_of_a_killed_process_is_marked_abandoned(tmp_path):
    import signal

    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    proc, run_id = _start_holder(path, close_store=False)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _status(path, run_id) == "running"  # a read-only look changes nothing
    with Store.open(path) as st:
        assert st.run(run_id)["status"] == "abandoned"
        assert st.run(run_id)["finished_at"] is None


def test_run_of_a_live_process_stays_running(tmp_path):
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    proc, run_id = _start_holder(path, close_store=True)
    try:
        with Store.open(path) as st:
            assert st.run(run_id)["status"] == "running"
    finally:
        proc.kill()
        proc.wait(timeout=30)


# ---- export to a full disk --------------------------------------------------------------------
def _filled_store(path):
    with Store.open(path) as st:
        st.begin_run("generate", {})
        st.add_samples([_row(f"k{i}", "x" * 2000) for i in range(200)])
    return path


def test_export_to_a_full_device_is_one_line(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    out = tmp_path / "out"
    out.mkdir()
    (out / "samples.jsonl").symlink_to("/dev/full")  # every write there fails with ENOSPC
    with Store.open(_filled_store(tmp_path / "s.duckdb"), read_only=True) as st:
        with pytest.raises(StoreError, match="samples.jsonl.*no space left on device") as err:
            st.export(out)
    assert "\n" not in str(err.value)


@pytest.fixture
def full_mount(tmp_path):
    """A 64 KiB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    cmd = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)]
    if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True, check=False)


def test_cli_export_to_a_full_disk_is_one_line_and_exit_2(tmp_path, full_mount, cli):
    store = _filled_store(tmp_path / "s.duckdb")
    proc = cli("export", "--store", str(store), "--out", str(full_mount), timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left on device" in lines[0], proc.stderr
    assert not (full_mount / "samples.jsonl").exists()  # no truncated file left behind
