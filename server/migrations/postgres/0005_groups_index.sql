-- Every signed-in request looks up the groups that list the caller. Groups
-- are few among the objects: an index of them alone keeps that lookup from
-- reading every record.
CREATE INDEX objects_groups ON objects (parent_id, id) WHERE resource_name = 'group';
