"""The run store's tables, and how a store made by an older version is brought up to date.

    meta          schema_version
    runs          one row per run: its status, times, worker, config, summary, group, owner
    epochs        one row per finished epoch: losses, learning rate, seconds, gradient norms
    grad_tensors  per-tensor gradient norms by epoch
    grad_steps    the gradient norm of every step, by epoch (a JSON list)
    grad_time     gradient through time, by epoch and series (a JSON list)
    events        the run's event log

A run's worker is recorded in `runs.pid`: a local process id, or the handle its executor gave
(`rnnlab.jobs.executors.WorkerHandle`), stored as text when it is not a number.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3   # 2: run groups (group_id, group_kind, group_label on runs)
                     # 3: who ran it (owner, room) and repeats (repeat_of)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    heartbeat_at REAL,
    pid INTEGER,
    config TEXT NOT NULL,
    data_sha256 TEXT NOT NULL DEFAULT '',
    epochs_total INTEGER NOT NULL DEFAULT 0,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    traceback TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    group_id TEXT NOT NULL DEFAULT '',
    group_kind TEXT NOT NULL DEFAULT '',
    group_label TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    repeat_of TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status, created_at);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    train_loss REAL,
    val_loss REAL,
    lr REAL,
    seconds REAL,
    grad_norm_mean REAL,
    grad_norm_max REAL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS grad_tensors (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    tensor TEXT NOT NULL,
    mean REAL,
    max REAL,
    PRIMARY KEY (run_id, epoch, tensor)
);
CREATE TABLE IF NOT EXISTS grad_steps (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    norms TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS grad_time (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    series TEXT NOT NULL,
    value_list TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch, series)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id, id);
"""

CHILD_TABLES = ("epochs", "grad_tensors", "grad_steps", "grad_time", "events")
# columns added after schema 1, with their definitions: a store made before them gets them on open
ADDED_COLUMNS = (("group_id", "TEXT NOT NULL DEFAULT ''"), ("group_kind", "TEXT NOT NULL DEFAULT ''"),
                 ("group_label", "TEXT NOT NULL DEFAULT ''"), ("owner", "TEXT NOT NULL DEFAULT ''"),
                 ("room", "TEXT NOT NULL DEFAULT ''"), ("repeat_of", "TEXT NOT NULL DEFAULT ''"))


def create(db: sqlite3.Connection) -> None:
    """Make the tables a new store needs (nothing for those that exist), then `migrate`."""
    db.execute("PRAGMA journal_mode = WAL")  # persistent: set once per database file
    db.executescript(SCHEMA)
    db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    migrate(db)


def migrate(db: sqlite3.Connection) -> None:
    """Bring a store made by an older version up to SCHEMA_VERSION, keeping its runs: the
    columns added since (run groups) are added with their defaults, in one transaction."""
    db.execute("BEGIN IMMEDIATE")   # another process may be migrating the same file
    try:
        have = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        for name, kind in [(n, k) for n, k in ADDED_COLUMNS if n not in have]:
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        db.execute("CREATE INDEX IF NOT EXISTS runs_group ON runs(group_id, created_at)")
        db.execute("CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner, status)")
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version' "
                   "AND CAST(value AS INTEGER) < ?", (str(SCHEMA_VERSION), SCHEMA_VERSION))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
