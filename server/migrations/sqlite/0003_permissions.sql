-- Who may do what on each object: one row per (object, permission,
-- principal). `object_id` is the object's URI, such as
-- `/buckets/b/collections/c`. Rights inherit down the tree when checked;
-- rows hold only what was set on the object itself.
CREATE TABLE permissions (
    object_id  TEXT NOT NULL,
    permission TEXT NOT NULL,
    principal  TEXT NOT NULL,
    PRIMARY KEY (object_id, permission, principal)
);
