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
    expiration_time   BIGINT,
    -- The followed channels as a JSON list, in the order given.
    channels          TEXT    NOT NULL,
    last_modified     BIGINT  NOT NULL,
    sent              BIGINT  NOT NULL DEFAULT 0,
    failed            BIGINT  NOT NULL DEFAULT 0,
    last_success      BIGINT,
    last_error_status BIGINT,
    last_error_at     BIGINT,
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
    id         BIGSERIAL PRIMARY KEY,
    channel    TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    ttl_secs   BIGINT  NOT NULL,
    readers    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- The outbox: one row per notification and subscription still to send. A
-- sender leases rows it works on; a lease that runs out (the sender died)
-- makes the row due again.
CREATE TABLE push_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    notification_id BIGINT  NOT NULL REFERENCES push_notifications (id) ON DELETE CASCADE,
    subscription_id TEXT    NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    due_at          BIGINT  NOT NULL,
    leased_until    BIGINT,
    UNIQUE (notification_id, subscription_id)
);

CREATE INDEX push_deliveries_by_due_time ON push_deliveries (due_at);
CREATE INDEX push_deliveries_by_subscription ON push_deliveries (subscription_id);
