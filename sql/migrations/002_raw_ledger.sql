-- The load ledger: one row per file seen (SPEC §5). Every line read is accounted for:
-- lines_read = lines_loaded + lines_already_present + lines_rejected.
CREATE TABLE raw.file_loads (
    load_id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name             text        NOT NULL,
    sha256                text        NOT NULL,
    size_bytes            bigint      NOT NULL,
    file_format           text,
    exports               integer     NOT NULL DEFAULT 0,
    lines_read            bigint      NOT NULL DEFAULT 0,
    lines_loaded          bigint      NOT NULL DEFAULT 0,
    lines_already_present bigint      NOT NULL DEFAULT 0,
    lines_rejected        bigint      NOT NULL DEFAULT 0,
    status                text        NOT NULL CHECK (status IN ('loaded', 'duplicate', 'rejected', 'failed')),
    error                 text,
    duplicate_of          bigint      REFERENCES raw.file_loads (load_id),
    run_id                text,
    started_at            timestamptz NOT NULL,
    finished_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT file_loads_accounting CHECK (
        lines_read = lines_loaded + lines_already_present + lines_rejected
    )
);
CREATE INDEX file_loads_sha256 ON raw.file_loads (sha256);

-- One row per loaded line. line_hash + occurrence is the line's identity (SPEC §3): the md5 of the eight
-- canonical values, and which copy this is among identical lines of the same export.
CREATE TABLE raw.transactions (
    line_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_no    text          NOT NULL,
    stock_code    text          NOT NULL,
    description   text,
    quantity      integer       NOT NULL,
    invoice_date  timestamp     NOT NULL,
    unit_price    numeric       NOT NULL,
    customer_id   integer,
    country       text          NOT NULL,
    line_hash     uuid          NOT NULL,
    occurrence    integer       NOT NULL CHECK (occurrence >= 1),
    source_file   text          NOT NULL,
    source_export text          NOT NULL,
    source_row    bigint        NOT NULL,
    -- No foreign key to raw.file_loads: the loader writes both in one transaction, and a per-row FK trigger
    -- would cost a third of the insert time.
    load_id       bigint        NOT NULL,
    loaded_at     timestamptz   NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX transactions_line_identity ON raw.transactions (line_hash, occurrence);
CREATE INDEX transactions_load_id ON raw.transactions (load_id);

-- Lines that could not be loaded, with the reason naming the column (SPEC §3: never silently dropped).
CREATE TABLE raw.rejected_lines (
    rejected_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    load_id       bigint      NOT NULL REFERENCES raw.file_loads (load_id),
    file_name     text        NOT NULL,
    source_export text        NOT NULL,
    source_row    bigint      NOT NULL,
    column_name   text,
    raw_text      text        NOT NULL,
    reason        text        NOT NULL,
    rejected_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_lines_load_id ON raw.rejected_lines (load_id);
