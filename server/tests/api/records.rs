//! Records: writes, tombstones and `_since` syncs, and the precondition
//! headers that keep concurrent clients from overwriting each other.

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{ALICE, TestApp, backends, spawn_app};

const RECORDS: &str = "/v1/buckets/b/collections/c/records";

/// An app where Alice owns bucket `b` and its collection `c`.
async fn app_with_collection(backend: crate::helpers::Backend) -> TestApp {
    let app = spawn_app(backend).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
        .await;
    app
}

fn last_modified(body: &Value) -> i64 {
    body["data"]["last_modified"].as_i64().expect("a timestamp")
}

#[tokio::test]
async fn put_record_creates_then_replaces_it_whole() {
    for backend in backends() {
        let app = app_with_collection(backend).await;
        let uri = format!("{RECORDS}/r1");
        app.put_ok(ALICE, &uri, json!({"title": "milk", "done": false}))
            .await;

        let replaced = app
            .call(
                Method::PUT,
                &uri,
                Some(ALICE),
                Some(json!({"data": {"title": "oat milk"}})),
                &[],
            )
            .await;

        assert_eq!(replaced.status, 200, "{backend:?}");
        let stored = app.get_as(&uri, ALICE).await.json();
        assert_eq!(stored["data"]["title"], "oat milk");
        assert!(stored["data"].get("done").is_none());
    }
}

#[tokio::test]
async fn get_record_returns_404_with_details_when_missing() {
    let app = app_with_collection(backends()[0]).await;

    let response = app.get_as(&format!("{RECORDS}/nope"), ALICE).await;

    assert_eq!(response.status, 404);
    let body = response.json();
    assert_eq!(body["errno"], 110);
    assert_eq!(
        body["details"],
        json!({"id": "nope", "resource_name": "record"})
    );
}

#[tokio::test]
async fn patch_record_merges_top_level_fields() {
    let app = app_with_collection(backends()[0]).await;
    let uri = format!("{RECORDS}/r1");
    app.put_ok(ALICE, &uri, json!({"title": "milk", "meta": {"a": 1}}))
        .await;

    let patched = app
        .call(
            Method::PATCH,
            &uri,
            Some(ALICE),
            Some(json!({"data": {"done": true, "meta": {"b": 2}}})),
            &[],
        )
        .await;

    assert_eq!(patched.status, 200);
    let data = &patched.json()["data"];
    assert_eq!(data["title"], "milk");
    assert_eq!(data["done"], true);
    assert_eq!(data["meta"], json!({"b": 2}));
}

#[tokio::test]
async fn delete_record_leaves_a_tombstone_that_since_syncs_see() {
    for backend in backends() {
        let app = app_with_collection(backend).await;
        let kept = app
            .put_ok(ALICE, &format!("{RECORDS}/kept"), json!({}))
            .await;
        app.put_ok(ALICE, &format!("{RECORDS}/gone"), json!({}))
            .await;

        let deleted = app
            .call(
                Method::DELETE,
                &format!("{RECORDS}/gone"),
                Some(ALICE),
                None,
                &[],
            )
            .await;
        let plain = app.get_as(RECORDS, ALICE).await;
        let since = app
            .get_as(&format!("{RECORDS}?_since={}", last_modified(&kept)), ALICE)
            .await;

        assert_eq!(deleted.status, 200, "{backend:?}");
        let tombstone = deleted.json()["data"].clone();
        assert_eq!(tombstone["deleted"], true);
        assert_eq!(plain.json()["data"].as_array().unwrap().len(), 1);
        assert_eq!(since.json()["data"], json!([tombstone]));
        let etag = format!("\"{}\"", tombstone["last_modified"]);
        assert_eq!(plain.header("etag"), etag);
    }
}

#[tokio::test]
async fn put_record_returns_412_with_the_current_record_when_if_match_is_stale() {
    for backend in backends() {
        let app = app_with_collection(backend).await;
        let uri = format!("{RECORDS}/r1");
        let first = app.put_ok(ALICE, &uri, json!({"v": 1})).await;
        app.put_ok(ALICE, &uri, json!({"v": 2})).await;
        let stale = format!("\"{}\"", last_modified(&first));

        let response = app
            .call(
                Method::PUT,
                &uri,
                Some(ALICE),
                Some(json!({"data": {"v": 3}})),
                &[("if-match", &stale)],
            )
            .await;

        assert_eq!(response.status, 412, "{backend:?}");
        let body = response.json();
        assert_eq!(body["errno"], 114);
        assert_eq!(body["details"]["existing"]["v"], 2);
    }
}

#[tokio::test]
async fn if_none_match_star_creates_only_new_records() {
    let app = app_with_collection(backends()[0]).await;
    let uri = format!("{RECORDS}/r1");
    let create = |value: i64| {
        app.call(
            Method::PUT,
            &uri,
            Some(ALICE),
            Some(json!({"data": {"v": value}})),
            &[("if-none-match", "*")],
        )
    };

    let first = create(1).await;
    let second = create(2).await;

    assert_eq!(first.status, 201);
    assert_eq!(second.status, 412);
    assert_eq!(second.json()["details"]["existing"]["v"], 1);
}

#[tokio::test]
async fn unchanged_record_is_answered_with_304() {
    let app = app_with_collection(backends()[0]).await;
    let uri = format!("{RECORDS}/r1");
    let written = app.put_ok(ALICE, &uri, json!({})).await;
    let etag = format!("\"{}\"", last_modified(&written));

    let response = app
        .call(
            Method::GET,
            &uri,
            Some(ALICE),
            None,
            &[("if-none-match", &etag)],
        )
        .await;

    assert_eq!(response.status, 304);
    assert_eq!(response.header("etag"), etag);
}

#[tokio::test]
async fn post_with_an_existing_id_answers_the_record_unchanged() {
    let app = app_with_collection(backends()[0]).await;
    app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({"v": 1}))
        .await;

    let response = app
        .call(
            Method::POST,
            RECORDS,
            Some(ALICE),
            Some(json!({"data": {"id": "r1", "v": 2}})),
            &[],
        )
        .await;

    assert_eq!(response.status, 200);
    assert_eq!(response.json()["data"]["v"], 1);
}

#[tokio::test]
async fn deleting_all_records_returns_their_tombstones() {
    let app = app_with_collection(backends()[0]).await;
    for id in ["a", "b"] {
        app.put_ok(ALICE, &format!("{RECORDS}/{id}"), json!({}))
            .await;
    }

    let response = app
        .call(Method::DELETE, RECORDS, Some(ALICE), None, &[])
        .await;

    assert_eq!(response.status, 200);
    let tombstones = response.json()["data"].as_array().unwrap().clone();
    assert_eq!(tombstones.len(), 2);
    assert!(tombstones.iter().all(|t| t["deleted"] == true));
    assert_eq!(app.get_as(RECORDS, ALICE).await.json()["data"], json!([]));
}

#[tokio::test]
async fn bad_input_is_a_400_that_changes_nothing() {
    let app = app_with_collection(backends()[0]).await;

    let bad_id = app
        .put_ok_status(&format!("{RECORDS}/bad.id"), Some(json!({})))
        .await;
    let not_object = app
        .put_ok_status(&format!("{RECORDS}/r1"), Some(json!({"data": [1, 2]})))
        .await;
    let bad_filter = app
        .get_as(&format!("{RECORDS}?_since=yesterday"), ALICE)
        .await;

    assert_eq!(bad_id, 400);
    assert_eq!(not_object, 400);
    assert_eq!(bad_filter.status, 400);
    assert_eq!(bad_filter.json()["errno"], 107);
    assert_eq!(app.get_as(RECORDS, ALICE).await.json()["data"], json!([]));
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = app_with_collection(backends()[0]).await;
    let request = axum::http::Request::put(format!("{RECORDS}/r1"))
        .header("host", "127.0.0.1:8888")
        .header("content-type", "application/json")
        .header("authorization", crate::helpers::basic(ALICE))
        .body(axum::body::Body::from("{not json"))
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status, 400);
    assert_eq!(response.json()["errno"], 107);
}

#[tokio::test]
async fn listings_filter_sort_and_cut_fields_in_the_database() {
    for backend in backends() {
        let app = app_with_collection(backend).await;
        for (id, n) in [("a", 1), ("b", 3), ("c", 2)] {
            let record = json!({"n": n, "title": format!("task {id}")});
            app.put_ok(ALICE, &format!("{RECORDS}/{id}"), record).await;
        }

        let response = app
            .get_as(&format!("{RECORDS}?min_n=2&_sort=-n&_fields=n"), ALICE)
            .await;

        assert_eq!(response.status, 200, "{backend:?}: {}", response.text());
        let data = response.json()["data"].clone();
        let ids: Vec<&str> = data
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["b", "c"]);
        assert!(data[0].get("title").is_none());
        assert_eq!(data[0]["n"], 3);
        assert_eq!(response.header("total-records"), "2");
    }
}

#[tokio::test]
async fn pages_follow_next_page_to_the_end_without_repeats() {
    for backend in backends() {
        let app = app_with_collection(backend).await;
        for n in 0..5 {
            app.put_ok(ALICE, &format!("{RECORDS}/r{n}"), json!({"n": n}))
                .await;
        }

        let mut seen = Vec::new();
        let mut next = Some(format!("{RECORDS}?_limit=2"));
        let mut pages = 0;
        while let Some(url) = next.take() {
            let response = app.get_as(&url, ALICE).await;
            assert_eq!(response.status, 200, "{url}: {}", response.text());
            assert_eq!(response.header("total-records"), "5");
            for record in response.json()["data"].as_array().unwrap() {
                seen.push(record["id"].as_str().unwrap().to_owned());
            }
            next = response.headers.get("next-page").map(|value| {
                let absolute = value.to_str().unwrap();
                absolute
                    .strip_prefix("http://127.0.0.1:8888")
                    .unwrap()
                    .to_owned()
            });
            pages += 1;
            assert!(pages <= 3, "too many pages");
        }

        assert_eq!(pages, 3, "{backend:?}");
        assert_eq!(seen, ["r4", "r3", "r2", "r1", "r0"]);
    }
}

#[tokio::test]
async fn patch_takes_merge_patch_and_json_patch_bodies() {
    let app = app_with_collection(backends()[0]).await;
    let uri = format!("{RECORDS}/r1");
    app.put_ok(
        ALICE,
        &uri,
        json!({"title": "milk", "meta": {"a": 1, "b": 2}}),
    )
    .await;

    let merged = app
        .call(
            Method::PATCH,
            &uri,
            Some(ALICE),
            Some(json!({"data": {"meta": {"a": null}, "done": true}})),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    let patched = app
        .call(
            Method::PATCH,
            &uri,
            Some(ALICE),
            Some(json!([{"op": "replace", "path": "/data/title", "value": "oat milk"}])),
            &[("content-type", "application/json-patch+json")],
        )
        .await;

    assert_eq!(merged.status, 200, "{}", merged.text());
    assert_eq!(merged.json()["data"]["meta"], json!({"b": 2}));
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(patched.json()["data"]["title"], "oat milk");
    assert_eq!(patched.json()["data"]["done"], true);
}

#[tokio::test]
async fn records_must_match_their_collection_schema() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    let schema = json!({
        "type": "object",
        "properties": { "title": { "type": "string" } },
        "required": ["title"],
    });
    app.put_ok(
        ALICE,
        "/v1/buckets/b/collections/c",
        json!({ "schema": schema }),
    )
    .await;

    let valid = app
        .put_ok_status(
            &format!("{RECORDS}/ok"),
            Some(json!({"data": {"title": "milk"}})),
        )
        .await;
    let invalid = app
        .call(
            Method::PUT,
            &format!("{RECORDS}/bad"),
            Some(ALICE),
            Some(json!({"data": {"title": 42}})),
            &[],
        )
        .await;
    let bad_schema = app
        .put_ok_status(
            "/v1/buckets/b/collections/d",
            Some(json!({"data": {"schema": {"type": "nonsense"}}})),
        )
        .await;

    assert_eq!(valid, 201);
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.json()["details"][0]["name"], "data.title");
    assert_eq!(bad_schema, 400);
}

#[tokio::test]
async fn contains_filters_match_lists_holding_all_or_any_of_the_values() {
    for backend in backends() {
        let app = app_with_collection(backend).await;
        for (id, tags) in [
            ("a", json!(["x", "y"])),
            ("b", json!(["y", 2])),
            ("c", json!("x")),
        ] {
            app.put_ok(ALICE, &format!("{RECORDS}/{id}"), json!({"tags": tags}))
                .await;
        }
        let ids = |query: &'static str| {
            let app = &app;
            async move {
                let response = app.get_as(&format!("{RECORDS}?{query}"), ALICE).await;
                assert_eq!(response.status, 200, "{query}: {}", response.text());
                let mut ids: Vec<String> = response.json()["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_owned())
                    .collect();
                ids.sort();
                ids
            }
        };

        assert_eq!(ids("contains_tags=x").await, ["a"], "{backend:?}");
        assert_eq!(ids("contains_tags=%5B%22y%22,2%5D").await, ["b"]);
        assert_eq!(ids("contains_any_tags=%5B%22x%22,2%5D").await, ["a", "b"]);
        assert_eq!(ids("contains_tags=%222%22").await, Vec::<String>::new());
    }
}

#[tokio::test]
async fn plural_delete_takes_filters_and_pages() {
    for backend in backends() {
        let app = app_with_collection(backend).await;
        for n in 0..5 {
            let done = n % 2 == 0;
            app.put_ok(ALICE, &format!("{RECORDS}/r{n}"), json!({"done": done}))
                .await;
        }

        let first = app
            .call(
                Method::DELETE,
                &format!("{RECORDS}?done=true&_limit=2"),
                Some(ALICE),
                None,
                &[],
            )
            .await;

        assert_eq!(first.status, 200, "{backend:?}: {}", first.text());
        assert_eq!(first.json()["data"].as_array().unwrap().len(), 2);
        let next = first.header("next-page").to_owned();
        let next = next.strip_prefix("http://127.0.0.1:8888").unwrap();
        assert!(next.contains("done=true"), "{next}");
        let rest = app.call(Method::DELETE, next, Some(ALICE), None, &[]).await;
        assert_eq!(rest.status, 200, "{}", rest.text());
        assert_eq!(rest.json()["data"].as_array().unwrap().len(), 1);
        assert!(rest.headers.get("next-page").is_none());
        let left = app.get_as(RECORDS, ALICE).await.json()["data"].clone();
        let mut left: Vec<&str> = left
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        left.sort_unstable();
        assert_eq!(left, ["r1", "r3"]);
    }
}

#[tokio::test]
async fn a_given_last_modified_is_kept_when_newer_than_the_collection() {
    for backend in backends() {
        let app = app_with_collection(backend).await;
        let first = app
            .put_ok(ALICE, &format!("{RECORDS}/a"), json!({"v": 1}))
            .await;
        let future = last_modified(&first) + 10_000;

        let kept = app
            .put_ok(
                ALICE,
                &format!("{RECORDS}/b"),
                json!({"last_modified": future}),
            )
            .await;
        let stale = app
            .put_ok(
                ALICE,
                &format!("{RECORDS}/a"),
                json!({"v": 2, "last_modified": 5}),
            )
            .await;
        let bad = app
            .put_ok_status(
                &format!("{RECORDS}/c"),
                Some(json!({"data": {"last_modified": "soon"}})),
            )
            .await;

        assert_eq!(last_modified(&kept), future, "{backend:?}");
        assert!(last_modified(&stale) > future, "{backend:?}");
        assert_eq!(bad, 400);
        let listing = app.get_as(RECORDS, ALICE).await;
        assert_eq!(
            listing.header("etag"),
            format!("\"{}\"", last_modified(&stale))
        );
    }
}
