-- Browser push subscriptions. `id` is derived from the owner and the
-- endpoint, so the same browser subscribing again updates its row. The
-- delivery stats change with every send; `last_modified` only with the
-- subscription itself.
CREATE TABLE push_subscriptions (
    id                TEXT    NOT NULL PRIMARY KEY,
    user_id           TEXT    NOT NULL,
    endpoint          TEXT    NOT NULL,
    -- Scheme, host and port of the endpoint: the push service.
    origin            TEXT    NOT NULL,
    p256dh            TEXT    NOT NULL,
    auth              TEXT    NOT NULL,
    expiration_time   INTEGER,
    -- The followed channels as a JSON list, in the order given.
    channels          TEXT    NOT NULL,
    last_modified     INTEGER NOT NULL,
    sent              INTEGER NOT NULL DEFAULT 0,
    failed            INTEGER NOT NULL DEFAULT 0,
    last_success      INTEGER,
    last_error_status INTEGER,
    last_error_at     INTEGER,
    last_error        TEXT
);

CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_by_endpoint ON push_subscriptions (endpoint);

-- Who follows each channel (`/buckets/b` or `/buckets/b/collections/c`).
CREATE TABLE push_channels (
    channel         TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    PRIMARY KEY (channel, subscription_id)
);

CREATE INDEX push_channels_by_subscription ON push_channels (subscription_id);

-- One message to the followers of a channel, written in the transaction of
-- the change it announces. `readers` are the principals that could read
-- the channel's object then, for when it is gone by the time it is sent.
CREATE TABLE push_notifications (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    channel    TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    ttl_secs   INTEGER NOT NULL,
    readers    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- The outbox: one row per notification and subscription still to send. A
-- sender leases rows it works on; a lease that runs out (the sender died)
-- makes the row due again.
CREATE TABLE push_deliveries (
    id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL REFERENCES push_notifications (id) ON DELETE CASCADE,
    subscription_id TEXT    NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL,
    leased_until    INTEGER,
    UNIQUE (notification_id, subscription_id)
);

CREATE INDEX push_deliveries_by_due_time ON push_deliveries (due_at);
CREATE INDEX push_deliveries_by_subscription ON push_deliveries (subscription_id);
