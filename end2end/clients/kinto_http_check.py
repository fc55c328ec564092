"""The real kinto-http.py client against the server at KINTO_PUSH_URL.

Each step uses the client as a script would and stops at the first
difference from what a Kinto server does.
"""

import logging
import os
import time

import kinto_http

# The client logs every batch response; only failures matter here.
logging.disable(logging.INFO)

SERVER = os.environ.get("KINTO_PUSH_URL", "http://127.0.0.1:8888") + "/v1"
RUN = format(int(time.time() * 1000), "x")
BUCKET = f"py-{RUN}"
PASSED = 0


def step(name):
    def run(body):
        global PASSED
        body()
        PASSED += 1
        print(f"ok - kinto-http.py: {name}")

    return run


alice = kinto_http.Client(server_url=SERVER, auth=(f"alice-{RUN}", "secret"), bucket=BUCKET)
bob = kinto_http.Client(server_url=SERVER, auth=(f"bob-{RUN}", "secret"), bucket=BUCKET)
state = {}


@step("says who the user is")
def _():
    user = alice.server_info()["user"]
    assert user["id"].startswith("basicauth:"), user
    state["alice"] = user["id"]
    state["bob"] = bob.server_info()["user"]["id"]


@step("creates a bucket and a collection")
def _():
    alice.create_bucket()
    alice.create_collection(id="notes")
    assert alice.get_collection(id="notes")["data"]["id"] == "notes"


@step("creates, reads and updates a record")
def _():
    record = alice.create_record(data={"title": "milk"}, collection="notes")
    record_id = record["data"]["id"]
    updated = alice.update_record(
        data={"id": record_id, "title": "oat milk"}, collection="notes"
    )
    assert updated["data"]["title"] == "oat milk"
    assert alice.get_record(id=record_id, collection="notes")["data"]["title"] == "oat milk"
    state["record"] = updated["data"]


@step("refuses a stale update with 412")
def _():
    stale = dict(state["record"], last_modified=state["record"]["last_modified"] - 1)
    try:
        alice.update_record(data=stale, collection="notes", safe=True)
    except kinto_http.KintoException as error:
        assert error.response.status_code == 412, error
    else:
        raise AssertionError("a stale update went through")


@step("creates many records in a batch")
def _():
    with alice.batch(collection="notes") as batch:
        for n in range(30):
            batch.create_record(data={"n": n})
    assert len(alice.get_records(collection="notes")) == 31


@step("syncs deletions with _since")
def _():
    since = alice.get_records_timestamp(collection="notes")
    alice.delete_record(id=state["record"]["id"], collection="notes")
    changes = alice.get_records(collection="notes", _since=since)
    assert changes == [
        {"id": state["record"]["id"], "last_modified": changes[0]["last_modified"], "deleted": True}
    ], changes


@step("keeps a collection private until it is shared")
def _():
    try:
        bob.get_records(collection="notes")
    except kinto_http.KintoException as error:
        assert error.response.status_code == 403, error
    else:
        raise AssertionError("bob read alice's notes")
    alice.patch_collection(id="notes", permissions={"read": [state["bob"]]})
    assert len(bob.get_records(collection="notes")) == 30


@step("deletes the bucket and everything in it")
def _():
    alice.delete_bucket()
    buckets = [bucket["id"] for bucket in alice.get_buckets()]
    assert BUCKET not in buckets, buckets


print(f"kinto-http.py: {PASSED} passed, 0 failed")
