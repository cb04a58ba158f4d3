-- ShopStream near-real-time state (PostgreSQL). Applied by `shopstream stream` before it starts; safe to apply twice.
-- The business tables stay as `shopstream up` made them: the stream only adds its own bookkeeping beside them.

-- The simulated clock of the stack (the study's Sim_Config): one row. A stopped stream resumes from sim_time.
CREATE TABLE IF NOT EXISTS sim_clock (
    singleton   boolean       PRIMARY KEY DEFAULT true CHECK (singleton),
    sim_time    timestamp     NOT NULL,
    speed       numeric(10,3) NOT NULL CHECK (speed > 0),
    running     boolean       NOT NULL DEFAULT false,
    seed        integer       NOT NULL DEFAULT 42,
    updated_at  timestamptz   NOT NULL DEFAULT clock_timestamp()
);

-- Why an order was cancelled by the simulator (only stock shortages today), and which product was short.
CREATE TABLE IF NOT EXISTS order_cancellations (
    order_id    integer      PRIMARY KEY REFERENCES orders (id),
    product_id  integer      NOT NULL REFERENCES products (id),
    reason      varchar(50)  NOT NULL CHECK (reason IN ('out_of_stock')),
    requested   integer      NOT NULL CHECK (requested > 0),
    available   integer      NOT NULL CHECK (available >= 0),
    cancelled_at timestamp   NOT NULL
);

-- Change log: one row per row the simulator wrote, in the writing transaction. `changed_at` is the wall clock of
-- the write (clock_timestamp(), never earlier than the transaction's start): the capture's watermark runs on it.
CREATE TABLE IF NOT EXISTS stream_changes (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  varchar(50)  NOT NULL,
    row_id      bigint       NOT NULL,
    changed_at  timestamptz  NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS idx_stream_changes_changed_at ON stream_changes (changed_at);
CREATE INDEX IF NOT EXISTS idx_stream_changes_row ON stream_changes (table_name, row_id);

-- Batch journal: a batch is committed here only after its files and manifest are published in the lake, so a
-- batch number in this table is a batch that exists; a crash before the commit redoes the same batch number,
-- whose file names are fixed, over the same or a wider window. `loaded_at` marks batches loaded into the warehouse.
CREATE TABLE IF NOT EXISTS stream_batches (
    batch_no      integer      PRIMARY KEY CHECK (batch_no > 0),
    lower_bound   timestamptz  NOT NULL,
    upper_bound   timestamptz  NOT NULL CHECK (upper_bound >= lower_bound),
    tail_seqs     bigint[]     NOT NULL DEFAULT '{}',
    manifest_key  text         NOT NULL,
    files         integer      NOT NULL,
    rows          integer      NOT NULL,
    published_at  timestamptz  NOT NULL DEFAULT clock_timestamp(),
    loaded_at     timestamptz
);
