//! HTTP tests: the whole router driven in-process, on SQLite and (when
//! `KINTO_PUSH_TEST_DATABASE_URL` is set) PostgreSQL.

mod batch;
mod buckets;
mod crash;
mod default_bucket;
mod events;
mod groups;
mod helpers;
mod push_delivery;
mod records;
mod site;
mod subscriptions;
mod utility;
