-- Rhythm's schema: everything lives in the Postgres schema "rhythm".
-- (Draft: the task-queue and workflow tables are refined by their own changes before 0.1.)
CREATE SCHEMA IF NOT EXISTS rhythm;

CREATE TABLE rhythm.workflow_definitions (
    name         text        NOT NULL,
    version_hash text        NOT NULL,
    source       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version_hash)
);
