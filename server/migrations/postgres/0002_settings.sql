-- Values the server generates once and must keep across restarts, such as
-- the key that derives user ids.
CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
