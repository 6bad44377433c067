"""The schema, as numbered migrations: each runs once, in order, in its own transaction.

Append a new `Migration` to change the schema; never edit one that has shipped.

Ledger: `ledger_entries` is the append-only history (the same entries as the TinyDB files,
numbered without gaps by `ledger_sequence`), the other ledger tables are what the entries add
up to, kept in the same transaction so a change is one atomic step: accounts (the CHECK says
no balance is ever overdrawn), holds (one per ref), the daily budget's use per UTC day, and
today's new visitors per address. The unique indexes make one hold and one settlement per ref
a fact of the database, whatever a replica does. Jobs: one JSONB record per job, with the
lease of the one replica following it (`_leases`, version 3); every change of a record is
announced on the `lipsync_jobs` channel (`_feed`), so the other replicas' viewers see it. A
visitor's cancel is kept on the job's row (version 4) until the job settles, so whichever
replica follows the job, now or after a takeover, honours it.

Shared state (version 2), what replicas must agree on: Replicate's budgets as token buckets
(`rate_take` refills and takes in one locked step on the database's clock, so replicas with
skewed clocks still share one budget), the webhook ids already received, the secrets made
once for the whole deployment, and the share links.

Places and batches (version 5): every admitted job's place (`jobs/_places`), so the studio's and
each owner's job limits and the create line count the jobs of every replica; and the batch
records, so any replica reads and cancels any batch.
"""

from __future__ import annotations

from typing import NamedTuple


class Migration(NamedTuple):
    version: int
    name: str
    sql: str


LEDGER_AND_JOBS = """
CREATE TABLE ledger_sequence (
    id int PRIMARY KEY CHECK (id = 1),
    last_seq bigint NOT NULL
);
INSERT INTO ledger_sequence VALUES (1, 0);

CREATE TABLE ledger_entries (
    seq bigint PRIMARY KEY,
    time text NOT NULL,
    owner text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('grant', 'hold', 'capture', 'release', 'adjust')),
    amount bigint NOT NULL,
    held bigint NOT NULL,
    ref text,
    reason text NOT NULL,
    spent bigint
);
CREATE INDEX ledger_entries_owner ON ledger_entries (owner, seq);
CREATE UNIQUE INDEX ledger_entries_one_hold ON ledger_entries (ref) WHERE kind = 'hold';
CREATE UNIQUE INDEX ledger_entries_one_settlement ON ledger_entries (ref)
    WHERE kind IN ('capture', 'release');

CREATE TABLE ledger_accounts (
    owner text PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0,
    held bigint NOT NULL DEFAULT 0,
    open_holds int NOT NULL DEFAULT 0,
    opened boolean NOT NULL DEFAULT false,
    CHECK (held >= 0 AND open_holds >= 0 AND balance >= held)
);

CREATE TABLE ledger_holds (
    ref text PRIMARY KEY,
    seq bigint NOT NULL,
    owner text NOT NULL,
    amount bigint NOT NULL CHECK (amount >= 0),
    created_at text NOT NULL,
    day text NOT NULL,
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'captured', 'released')),
    charged bigint NOT NULL DEFAULT 0,
    spent bigint NOT NULL DEFAULT 0,
    reason text NOT NULL DEFAULT '',
    CHECK (charged BETWEEN 0 AND amount)
);
CREATE INDEX ledger_holds_open ON ledger_holds (owner, seq) WHERE state = 'open';

CREATE TABLE ledger_days (
    day text PRIMARY KEY,
    held bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
    spent bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger_grant_counts (
    day text NOT NULL,
    address text NOT NULL,
    count int NOT NULL,
    PRIMARY KEY (day, address)
);

CREATE TABLE jobs (
    job_id text PRIMARY KEY,
    record jsonb NOT NULL
);
"""

SHARED_STATE = """
-- Unlogged: a take commits without waiting for the disk; after a server crash the buckets start
-- full again, which only the first minute after the crash can notice.
CREATE UNLOGGED TABLE rate_buckets (
    name text PRIMARY KEY,
    tokens double precision NOT NULL,
    stamp double precision NOT NULL
);

-- Refill `bucket` (at most `burst` tokens, `rate` a second) and take one token if there is one:
-- 0 when taken, else the seconds until one will be there. The row lock orders the callers.
CREATE FUNCTION rate_take(bucket text, burst double precision, rate double precision)
RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    have double precision;
    was double precision;
    now_s double precision;
BEGIN
    INSERT INTO rate_buckets (name, tokens, stamp)
        VALUES (bucket, burst, extract(epoch FROM clock_timestamp()))
        ON CONFLICT (name) DO NOTHING;
    SELECT tokens, stamp INTO have, was FROM rate_buckets WHERE name = bucket FOR UPDATE;
    now_s := extract(epoch FROM clock_timestamp());
    have := least(burst, have + greatest(0, now_s - was) * rate);
    IF have >= 1 - 1e-9 THEN
        UPDATE rate_buckets SET tokens = have - 1, stamp = greatest(was, now_s) WHERE name = bucket;
        RETURN 0;
    END IF;
    UPDATE rate_buckets SET tokens = have, stamp = greatest(was, now_s) WHERE name = bucket;
    RETURN (1 - have) / rate;
END
$$;

-- A token taken but not used (its caller left) goes back, never above `burst`.
CREATE FUNCTION rate_give_back(bucket text, burst double precision)
RETURNS void LANGUAGE sql AS $$
    UPDATE rate_buckets SET tokens = least(burst, tokens + 1) WHERE name = bucket;
$$;

CREATE TABLE webhook_deliveries (
    webhook_id text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_age ON webhook_deliveries (received_at);

CREATE TABLE app_secrets (
    name text PRIMARY KEY,
    secret text NOT NULL CHECK (length(secret) >= 16)
);

CREATE TABLE shares (
    token_hash text PRIMARY KEY,
    job_id text NOT NULL UNIQUE,
    record jsonb NOT NULL
);
"""

JOB_LEASES = """
ALTER TABLE jobs
    ADD COLUMN lease_holder text,
    ADD COLUMN lease_until timestamptz;
CREATE INDEX jobs_unsettled ON jobs (lease_until) WHERE NOT (record->>'settled')::boolean;

CREATE FUNCTION jobs_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lipsync_jobs',
        json_build_object('job', NEW.job_id, 'kind', 'saved', 'from', NEW.lease_holder)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_announce AFTER INSERT OR UPDATE OF record ON jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_announce();
"""

CANCEL_WANTED = """
ALTER TABLE jobs ADD COLUMN cancel_wanted_at timestamptz;
"""

PLACES_AND_BATCHES = """
-- One row per admitted job until it ends: `unit` is what the owner's limit counts (a comparison's
-- group id, else the job id); `waiting` while the job is in the create line, where it holds no
-- running place until it is `reserved` one (it is first in line and waits for its create
-- token). The replica following the job renews `alive_until`.
CREATE TABLE job_places (
    job_id text PRIMARY KEY,
    owner text NOT NULL,
    unit text NOT NULL,
    holder text NOT NULL,
    alive_until timestamptz NOT NULL,
    waiting boolean NOT NULL DEFAULT false,
    reserved boolean NOT NULL DEFAULT false,
    line_joined_at timestamptz,
    CHECK (NOT waiting OR line_joined_at IS NOT NULL),
    CHECK (NOT reserved OR waiting)
);
CREATE INDEX job_places_owner ON job_places (owner);
CREATE INDEX job_places_alive ON job_places (alive_until);

-- A place counts while its replica keeps it alive (it deletes the row when the job settles), and
-- after that while the job's record is unsettled: a dead replica's job stays counted until
-- another replica takes it over (and renews its place).
CREATE VIEW live_job_places AS
    SELECT p.* FROM job_places p
    WHERE p.alive_until >= now() OR EXISTS (
        SELECT 1 FROM jobs j WHERE j.job_id = p.job_id AND NOT (j.record->>'settled')::boolean);

-- Batch records; `runner` is the replica (by name) whose task starts the batch's items, and
-- `cancel_asked` is how another replica asks it to stop.
CREATE TABLE batches (
    batch_id text PRIMARY KEY,
    owner text NOT NULL,
    runner text NOT NULL,
    cancel_asked boolean NOT NULL DEFAULT false,
    record jsonb NOT NULL
);
CREATE INDEX batches_owner ON batches (owner);
CREATE INDEX batches_unfinished ON batches (runner) WHERE record->>'finished_at' IS NULL;
-- One unfinished batch per owner, whichever replicas start them at once.
CREATE UNIQUE INDEX batches_one_running ON batches (owner) WHERE record->>'finished_at' IS NULL;
"""

MIGRATIONS: list[Migration] = [
    Migration(1, "ledger and jobs", LEDGER_AND_JOBS),
    Migration(2, "shared state", SHARED_STATE),
    Migration(3, "job leases and their announcements", JOB_LEASES),
    Migration(4, "a cancel kept until its job settles", CANCEL_WANTED),
    Migration(5, "job places and batches", PLACES_AND_BATCHES),
]
