-- The homogeny run store, schema version 4 (db.SCHEMA_VERSION).
-- This file is the current layout: a new store is created from it as it stands. To change it,
-- edit it here AND append a migration to db.MIGRATIONS that brings an older store to the same
-- layout (see db.py); the version stamped in `meta` is the migrations' count plus one.
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    command VARCHAR,
    claim VARCHAR,
    settings_json VARCHAR,
    homogeny_version VARCHAR,
    pid BIGINT,
    hostname VARCHAR,
    started_at DOUBLE,
    finished_at DOUBLE,
    status VARCHAR
);
CREATE TABLE IF NOT EXISTS models (
    model_sha256 VARCHAR PRIMARY KEY,
    model_id VARCHAR,
    spec VARCHAR,
    backend VARCHAR,
    info_json VARCHAR
);
CREATE TABLE IF NOT EXISTS prompts (
    prompt_hash VARCHAR PRIMARY KEY,
    prompt_id VARCHAR,
    text VARCHAR,
    messages_json VARCHAR
);
CREATE TABLE IF NOT EXISTS samples (
    key VARCHAR PRIMARY KEY,
    run_id VARCHAR,
    model_id VARCHAR,
    model_sha256 VARCHAR,
    prompt_hash VARCHAR,
    prompt_id VARCHAR,
    sample_index INTEGER,
    seed BIGINT,
    temperature DOUBLE,
    top_p DOUBLE,
    min_p DOUBLE,
    top_k INTEGER,
    max_tokens INTEGER,
    chat BOOLEAN,
    params_json VARCHAR,
    text VARCHAR,
    token_ids INTEGER[],
    logprobs DOUBLE[],
    top_logprobs_json VARCHAR,
    finish_reason VARCHAR,
    n_prompt_tokens INTEGER,
    n_tokens INTEGER,
    gen_seconds DOUBLE,
    created_at DOUBLE
);
CREATE TABLE IF NOT EXISTS embeddings (
    embed_model VARCHAR,
    text_hash VARCHAR,
    vector FLOAT[],
    PRIMARY KEY (embed_model, text_hash)
);
CREATE TABLE IF NOT EXISTS evidence (
    evidence_id VARCHAR PRIMARY KEY,
    run_id VARCHAR,
    claim VARCHAR,
    question VARCHAR,
    metric VARCHAR,
    sign VARCHAR,
    effect DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    n INTEGER,
    verdict VARCHAR,
    rule VARCHAR,
    models VARCHAR,
    quick BOOLEAN,
    plot_json VARCHAR,
    created_at DOUBLE,
    threshold DOUBLE,
    predicted VARCHAR,
    unit VARCHAR,
    subject VARCHAR,
    source VARCHAR,
    role VARCHAR,
    n_units INTEGER,
    null_rate DOUBLE,
    p_value DOUBLE,
    method VARCHAR
);
CREATE TABLE IF NOT EXISTS artifacts (
    claim VARCHAR,
    name VARCHAR,
    run_id VARCHAR,
    data_json VARCHAR,
    created_at DOUBLE,
    PRIMARY KEY (claim, name)
);
-- Named annotations of samples (version 4): e.g. `noveltybench_partition` (the sample's
-- equivalence class id within its prompt's draw) or `group` (a treatment arm). One value a name.
CREATE TABLE IF NOT EXISTS annotations (
    key VARCHAR,
    name VARCHAR,
    value VARCHAR,
    PRIMARY KEY (key, name)
);
-- Where an imported sample came from (version 4): file, its sha256, 1-based line, format.
CREATE TABLE IF NOT EXISTS provenance (
    key VARCHAR PRIMARY KEY,
    source VARCHAR,
    source_sha256 VARCHAR,
    line INTEGER,
    format VARCHAR,
    run_id VARCHAR,
    created_at DOUBLE
);
