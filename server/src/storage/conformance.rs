//! The storage conformance suite: every test runs against SQLite and, when
//! `KINTO_PUSH_TEST_DATABASE_URL` names a PostgreSQL database, against
//! PostgreSQL, each on a fresh database (a fresh schema on PostgreSQL).

use std::sync::Arc;

use serde_json::json;
use sqlx::Connection;

use super::*;

/// Enables the PostgreSQL runs: a database the tests may create schemas in.
const POSTGRES_URL_VARIABLE: &str = "KINTO_PUSH_TEST_DATABASE_URL";

/// Writers the concurrency test starts at once.
const CONCURRENT_WRITERS: usize = 8;

/// A storage on a fresh database, and what keeps that database alive.
struct TestBackend {
    storage: Arc<dyn Storage>,
    _folder: Option<tempfile::TempDir>,
}

impl TestBackend {
    async fn sqlite() -> Self {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", folder.path().join("test.sqlite3").display());
        let storage = connect(&url.parse().expect("a SQLite URL"), 4)
            .await
            .expect("the SQLite database opens");
        Self {
            storage,
            _folder: Some(folder),
        }
    }

    /// `None`, with a note on stderr, when no PostgreSQL database is set.
    async fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var(POSTGRES_URL_VARIABLE) else {
            eprintln!("skipped: {POSTGRES_URL_VARIABLE} is not set, PostgreSQL is not tested");
            return None;
        };
        let schema = format!("storage_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&base)
            .await
            .expect("the PostgreSQL test database answers");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .expect("a fresh schema");
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        let storage = connect(&url.parse().expect("a PostgreSQL URL"), 4)
            .await
            .expect("the PostgreSQL database opens");
        Some(Self {
            storage,
            _folder: None,
        })
    }
}

/// Declares each listed test once per backend: `sqlite::name` and
/// `postgres::name`.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let backend = super::TestBackend::sqlite().await;
                    super::$test(backend.storage.clone()).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(backend) = super::TestBackend::postgres().await else {
                        return;
                    };
                    super::$test(backend.storage.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    create_then_get_returns_the_object,
    create_refuses_a_live_id_and_returns_the_object,
    create_over_a_tombstone_revives_the_id,
    put_creates_then_replaces_the_data_whole,
    delete_leaves_a_tombstone_that_only_since_listings_show,
    delete_of_a_missing_object_is_not_found,
    writes_in_one_millisecond_get_increasing_timestamps,
    set_timestamp_is_the_newest_issued_tombstones_included,
    unwritten_set_timestamp_is_fixed_at_first_read,
    set_timestamp_moves_forward_after_a_purge,
    sets_are_independent,
    purge_removes_descendants_but_not_neighbours,
    dropped_transaction_writes_nothing,
    concurrent_writers_get_distinct_increasing_timestamps,
    setting_keeps_its_first_value,
    permissions_are_replaced_whole_and_purged_with_descendants,
    query_filters_compare_values_type_by_type,
    query_sorts_pages_and_counts,
);

fn records_of(collection: &str) -> Scope {
    Scope::children(
        format!("/buckets/b/collections/{collection}"),
        ResourceName::Record,
    )
}

fn data(value: serde_json::Value) -> Data {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn at(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

async fn create_then_get_returns_the_object(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();

    let created = tx
        .create(&scope, "r1", data(json!({"title": "milk"})), at(1_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = storage.begin_read().await.unwrap();
    let stored = tx.get(&scope, "r1").await.unwrap().unwrap();
    assert_eq!(stored, created);
    assert_eq!(stored.last_modified, at(1_000));
    assert_eq!(stored.data["title"], "milk");
}

async fn create_refuses_a_live_id_and_returns_the_object(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();
    tx.create(&scope, "r1", data(json!({"n": 1})), at(1_000))
        .await
        .unwrap();

    let error = tx
        .create(&scope, "r1", data(json!({"n": 2})), at(2_000))
        .await
        .unwrap_err();

    let StorageError::AlreadyExists(existing) = error else {
        panic!("expected AlreadyExists, got {error:?}");
    };
    assert_eq!(existing.data["n"], 1);
    assert_eq!(tx.timestamp(&scope, at(3_000)).await.unwrap(), at(1_000));
}

async fn create_over_a_tombstone_revives_the_id(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();
    tx.create(&scope, "r1", Data::new(), at(1_000))
        .await
        .unwrap();
    tx.delete(&scope, "r1", at(1_000)).await.unwrap();

    let revived = tx
        .create(&scope, "r1", data(json!({"again": true})), at(1_000))
        .await
        .unwrap();

    assert_eq!(revived.last_modified, at(1_002));
    let listed = tx.list(&scope, None).await.unwrap();
    assert_eq!(listed, vec![Entry::Live(revived)]);
}

async fn put_creates_then_replaces_the_data_whole(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();

    let (first, _) = tx
        .put(&scope, "r1", data(json!({"a": 1, "b": 2})), at(1_000))
        .await
        .unwrap();
    let (second, replaced) = tx
        .put(&scope, "r1", data(json!({"a": 3})), at(2_000))
        .await
        .unwrap();

    assert_eq!(first, Written::Created);
    assert_eq!(second, Written::Replaced);
    assert_eq!(replaced.data, data(json!({"a": 3})));
    assert_eq!(tx.get(&scope, "r1").await.unwrap(), Some(replaced));
}

async fn delete_leaves_a_tombstone_that_only_since_listings_show(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();
    tx.create(&scope, "kept", Data::new(), at(1_000))
        .await
        .unwrap();
    tx.create(&scope, "gone", Data::new(), at(2_000))
        .await
        .unwrap();

    let tombstone = tx.delete(&scope, "gone", at(3_000)).await.unwrap();

    assert_eq!(tombstone.last_modified, at(3_000));
    assert_eq!(tx.get(&scope, "gone").await.unwrap(), None);
    let live = tx.list(&scope, None).await.unwrap();
    assert_eq!(live.iter().map(Entry::id).collect::<Vec<_>>(), ["kept"]);
    let changes = tx.list(&scope, Some(at(1_500))).await.unwrap();
    assert_eq!(changes, vec![Entry::Deleted(tombstone)]);
}

async fn delete_of_a_missing_object_is_not_found(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();
    tx.create(&scope, "r1", Data::new(), at(1_000))
        .await
        .unwrap();
    tx.delete(&scope, "r1", at(2_000)).await.unwrap();

    let never = tx.delete(&scope, "never", at(3_000)).await.unwrap_err();
    let again = tx.delete(&scope, "r1", at(3_000)).await.unwrap_err();

    assert!(matches!(never, StorageError::NotFound), "{never:?}");
    assert!(matches!(again, StorageError::NotFound), "{again:?}");
    assert_eq!(tx.timestamp(&scope, at(4_000)).await.unwrap(), at(2_000));
}

async fn writes_in_one_millisecond_get_increasing_timestamps(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();

    let mut issued = Vec::new();
    for id in ["a", "b", "c", "d", "e"] {
        let object = tx.create(&scope, id, Data::new(), at(5_000)).await.unwrap();
        issued.push(object.last_modified.as_millis());
    }
    // A clock that stepped back changes nothing either.
    let late = tx.create(&scope, "f", Data::new(), at(10)).await.unwrap();

    assert_eq!(issued, [5_000, 5_001, 5_002, 5_003, 5_004]);
    assert_eq!(late.last_modified, at(5_005));
}

async fn set_timestamp_is_the_newest_issued_tombstones_included(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();
    tx.create(&scope, "r1", Data::new(), at(1_000))
        .await
        .unwrap();

    let tombstone = tx.delete(&scope, "r1", at(2_000)).await.unwrap();

    assert_eq!(
        tx.timestamp(&scope, at(9_000)).await.unwrap(),
        tombstone.last_modified
    );
}

async fn unwritten_set_timestamp_is_fixed_at_first_read(storage: Arc<dyn Storage>) {
    let scope = records_of("empty");
    let mut tx = storage.begin_read().await.unwrap();

    let first = tx.timestamp(&scope, at(1_000)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = storage.begin_read().await.unwrap();
    let second = tx.timestamp(&scope, at(2_000)).await.unwrap();

    assert_eq!(first, at(1_000));
    assert_eq!(second, at(1_000));
}

async fn set_timestamp_moves_forward_after_a_purge(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();
    let old = tx
        .create(&scope, "r1", Data::new(), at(5_000))
        .await
        .unwrap();

    tx.purge_descendants("/buckets/b", at(1_000)).await.unwrap();
    let after_purge = tx.timestamp(&scope, at(1_000)).await.unwrap();
    let recreated = tx
        .create(&scope, "r1", Data::new(), at(1_000))
        .await
        .unwrap();

    assert!(after_purge > old.last_modified);
    assert!(recreated.last_modified > after_purge);
    assert_eq!(tx.list(&scope, Some(at(0))).await.unwrap().len(), 1);
}

async fn sets_are_independent(storage: Arc<dyn Storage>) {
    let shopping = records_of("shopping");
    let chores = records_of("chores");
    let collections = Scope::children("/buckets/b", ResourceName::Collection);
    let mut tx = storage.begin_write().await.unwrap();

    tx.create(&shopping, "r1", Data::new(), at(7_000))
        .await
        .unwrap();
    tx.create(&collections, "shopping", Data::new(), at(1_000))
        .await
        .unwrap();

    assert_eq!(tx.list(&chores, None).await.unwrap(), vec![]);
    assert_eq!(tx.get(&chores, "r1").await.unwrap(), None);
    assert_eq!(tx.timestamp(&chores, at(3_000)).await.unwrap(), at(3_000));
    assert_eq!(
        tx.timestamp(&collections, at(9_000)).await.unwrap(),
        at(1_000)
    );
}

async fn purge_removes_descendants_but_not_neighbours(storage: Arc<dyn Storage>) {
    let mut tx = storage.begin_write().await.unwrap();
    let buckets = Scope::buckets();
    let collections =
        |bucket: &str| Scope::children(format!("/buckets/{bucket}"), ResourceName::Collection);
    let records = |bucket: &str| {
        Scope::children(
            format!("/buckets/{bucket}/collections/c"),
            ResourceName::Record,
        )
    };
    for bucket in ["b", "b2", "b-1"] {
        tx.create(&buckets, bucket, Data::new(), at(1_000))
            .await
            .unwrap();
        tx.create(&collections(bucket), "c", Data::new(), at(1_000))
            .await
            .unwrap();
        tx.create(&records(bucket), "r", Data::new(), at(1_000))
            .await
            .unwrap();
    }

    let purged = tx.purge_descendants("/buckets/b", at(2_000)).await.unwrap();

    assert_eq!(purged, 2);
    assert_eq!(tx.list(&collections("b"), None).await.unwrap(), vec![]);
    assert_eq!(tx.list(&records("b"), None).await.unwrap(), vec![]);
    assert_eq!(tx.list(&buckets, None).await.unwrap().len(), 3);
    for neighbour in ["b2", "b-1"] {
        assert_eq!(tx.list(&records(neighbour), None).await.unwrap().len(), 1);
    }
}

async fn dropped_transaction_writes_nothing(storage: Arc<dyn Storage>) {
    let scope = records_of("c");
    let mut tx = storage.begin_write().await.unwrap();
    tx.create(&scope, "r1", Data::new(), at(1_000))
        .await
        .unwrap();

    drop(tx);

    let mut tx = storage.begin_read().await.unwrap();
    assert_eq!(tx.get(&scope, "r1").await.unwrap(), None);
    assert_eq!(tx.timestamp(&scope, at(2_000)).await.unwrap(), at(2_000));
}

async fn concurrent_writers_get_distinct_increasing_timestamps(storage: Arc<dyn Storage>) {
    let scope = records_of("c");

    // Every writer reads the same clock, so only storage keeps them apart.
    let writers = (0..CONCURRENT_WRITERS).map(|n| {
        let storage = Arc::clone(&storage);
        let scope = scope.clone();
        tokio::spawn(async move {
            let mut tx = storage.begin_write().await.unwrap();
            let object = tx
                .create(&scope, &format!("r{n}"), Data::new(), at(1_000))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            object.last_modified.as_millis()
        })
    });
    let mut issued = Vec::new();
    for writer in writers.collect::<Vec<_>>() {
        issued.push(writer.await.unwrap());
    }

    issued.sort_unstable();
    let expected: Vec<i64> = (1_000..).take(CONCURRENT_WRITERS).collect();
    assert_eq!(issued, expected);
}

async fn setting_keeps_its_first_value(storage: Arc<dyn Storage>) {
    let mut tx = storage.begin_write().await.unwrap();
    let first = tx.setting_or_insert("key", "one").await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = storage.begin_write().await.unwrap();
    let second = tx.setting_or_insert("key", "two").await.unwrap();

    assert_eq!(first, "one");
    assert_eq!(second, "one");
}

async fn permissions_are_replaced_whole_and_purged_with_descendants(storage: Arc<dyn Storage>) {
    let grant = |entries: &[(&str, &str)]| {
        let mut permissions = Permissions::new();
        for (name, principal) in entries {
            permissions
                .entry((*name).to_owned())
                .or_default()
                .insert((*principal).to_owned());
        }
        permissions
    };
    let mut tx = storage.begin_write().await.unwrap();
    let bucket = grant(&[("write", "alice"), ("read", "system.Everyone")]);
    tx.set_permissions("/buckets/b", &bucket).await.unwrap();
    tx.set_permissions("/buckets/b/collections/c", &grant(&[("read", "bob")]))
        .await
        .unwrap();
    tx.set_permissions("/buckets/b2", &grant(&[("write", "carol")]))
        .await
        .unwrap();

    let replacement = grant(&[("write", "dave")]);
    tx.set_permissions("/buckets/b", &replacement)
        .await
        .unwrap();
    assert_eq!(tx.permissions("/buckets/b").await.unwrap(), replacement);

    let purged = tx.purge_permissions("/buckets/b").await.unwrap();
    assert_eq!(purged, 2);
    assert!(
        tx.permissions("/buckets/b/collections/c")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.permissions("/buckets/b2").await.unwrap().len(), 1);
}

/// A set with values of every JSON type, for the query tests.
async fn seed_query_records(storage: &Arc<dyn Storage>) -> Scope {
    let scope = records_of("q");
    let mut tx = storage.begin_write().await.unwrap();
    let rows = [
        ("a", json!({"n": 2, "title": "Milk", "meta": {"k": "x"}})),
        ("b", json!({"n": "2", "title": "oat milk"})),
        (
            "c",
            json!({"n": 3, "flag": true, "meta": {"k": null}, "codes": ["1"]}),
        ),
        ("d", json!({"n": 1.5, "title": "bread"})),
        (
            "e",
            json!({"tags": ["x", "y"], "codes": [1, true, {"o": 1}]}),
        ),
    ];
    for (millis, (id, value)) in (1_000..).zip(rows) {
        tx.create(&scope, id, data(value), at(millis))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    scope
}

fn filter(name: &str, operator: Operator, value: serde_json::Value) -> Filter {
    Filter {
        field: Field::parse(name),
        operator,
        value,
    }
}

async fn ids(storage: &Arc<dyn Storage>, scope: &Scope, query: Query) -> Vec<String> {
    let mut tx = storage.begin_read().await.unwrap();
    let mut ids: Vec<String> = tx
        .query(scope, &query)
        .await
        .unwrap()
        .iter()
        .map(|entry| entry.id().to_owned())
        .collect();
    if query.sort.is_empty() {
        ids.sort();
    }
    ids
}

async fn query_filters_compare_values_type_by_type(storage: Arc<dyn Storage>) {
    let scope = seed_query_records(&storage).await;
    let only = |filters: Vec<Filter>| Query {
        filters,
        ..Query::default()
    };

    let cases = [
        (vec![filter("n", Operator::Eq, json!(2))], vec!["a"]),
        (vec![filter("n", Operator::Eq, json!("2"))], vec!["b"]),
        (
            vec![filter("n", Operator::Not, json!(2))],
            vec!["b", "c", "d", "e"],
        ),
        (
            vec![filter("n", Operator::In, json!([2, 3]))],
            vec!["a", "c"],
        ),
        (
            vec![filter("n", Operator::Exclude, json!([2, "2"]))],
            vec!["c", "d", "e"],
        ),
        (vec![filter("n", Operator::Min, json!(2))], vec!["a", "c"]),
        (vec![filter("n", Operator::Lt, json!(2))], vec!["d"]),
        (vec![filter("flag", Operator::Eq, json!(true))], vec!["c"]),
        (vec![filter("meta.k", Operator::Eq, json!("x"))], vec!["a"]),
        (
            vec![filter("meta.k", Operator::Has, json!(true))],
            vec!["a", "c"],
        ),
        (
            vec![filter("meta.k", Operator::Has, json!(false))],
            vec!["b", "d", "e"],
        ),
        (
            vec![filter("title", Operator::Like, json!("milk"))],
            vec!["a", "b"],
        ),
        (
            vec![filter("title", Operator::Like, json!("br*"))],
            vec!["d"],
        ),
        (
            vec![filter("tags", Operator::Eq, json!(["x", "y"]))],
            vec!["e"],
        ),
        (
            vec![filter("codes", Operator::Contains, json!([1, true]))],
            vec!["e"],
        ),
        (
            vec![filter("codes", Operator::Contains, json!(["1"]))],
            vec!["c"],
        ),
        (
            vec![filter("codes", Operator::Contains, json!([{"o": 1}]))],
            vec!["e"],
        ),
        (
            vec![filter("codes", Operator::Contains, json!([1, "1"]))],
            vec![],
        ),
        (
            vec![filter("codes", Operator::ContainsAny, json!([1, "1"]))],
            vec!["c", "e"],
        ),
        (
            vec![filter("codes", Operator::ContainsAny, json!([]))],
            vec![],
        ),
        (vec![filter("n", Operator::Contains, json!([2]))], vec![]),
        (
            vec![filter("id", Operator::In, json!(["a", "e"]))],
            vec!["a", "e"],
        ),
        (
            vec![filter("last_modified", Operator::Gt, json!(1_002))],
            vec!["d", "e"],
        ),
        (
            vec![
                filter("n", Operator::Gt, json!(1)),
                filter("title", Operator::Has, json!(true)),
            ],
            vec!["a", "d"],
        ),
    ];
    for (filters, expected) in cases {
        let described = format!("{filters:?}");
        assert_eq!(
            ids(&storage, &scope, only(filters)).await,
            expected,
            "{described}"
        );
    }
}

async fn query_sorts_pages_and_counts(storage: Arc<dyn Storage>) {
    let scope = seed_query_records(&storage).await;
    let numbers = filter("n", Operator::Gt, json!(0));
    let by_n = |limit: Option<u64>, offset: u64| Query {
        filters: vec![numbers.clone()],
        sort: vec![SortKey {
            field: Field::parse("n"),
            is_descending: false,
        }],
        limit,
        offset,
        ..Query::default()
    };

    let all = ids(&storage, &scope, by_n(None, 0)).await;
    let second_page = ids(&storage, &scope, by_n(Some(2), 1)).await;
    let mut tx = storage.begin_read().await.unwrap();
    let count = tx.count(&scope, &by_n(Some(1), 0)).await.unwrap();
    let newest_first = ids(
        &storage,
        &scope,
        Query {
            sort: Vec::new(),
            limit: Some(2),
            ..Query::default()
        },
    )
    .await;

    assert_eq!(all, ["d", "a", "c"]);
    assert_eq!(second_page, ["a", "c"]);
    assert_eq!(count, 3);
    assert_eq!(newest_first, ["d", "e"]);
}
