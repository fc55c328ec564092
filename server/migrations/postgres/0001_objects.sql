-- Every bucket, collection, group and record, live or deleted. `parent_id` is
-- the URI of the parent object ('' for buckets). A deleted object keeps its
-- row as a tombstone: `is_deleted` set and `data` emptied.
CREATE TABLE objects (
    -- Byte order, as in SQLite, so that a parent's descendants are one range.
    parent_id     TEXT    COLLATE "C" NOT NULL,
    resource_name TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    last_modified BIGINT  NOT NULL,
    is_deleted    BOOLEAN NOT NULL DEFAULT FALSE,
    data          JSONB   NOT NULL DEFAULT '{}',
    PRIMARY KEY (parent_id, resource_name, id)
);

-- Listings and `_since` syncs read one set in timestamp order.
CREATE INDEX objects_by_timestamp ON objects (parent_id, resource_name, last_modified);

-- The newest timestamp issued in each set of objects. A row outlives the
-- objects it counts, so a set that is emptied and filled again never goes
-- back in time.
CREATE TABLE timestamps (
    parent_id     TEXT    COLLATE "C" NOT NULL,
    resource_name TEXT    NOT NULL,
    last_modified BIGINT  NOT NULL,
    PRIMARY KEY (parent_id, resource_name)
);
