// The real kinto.js client, in Node with an in-memory IndexedDB, syncing two
// devices of one user through the server at KINTO_PUSH_URL. Exits non-zero
// at the first difference from what a Kinto server does.
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import kinto from "kinto";

const Kinto = kinto.default ?? kinto;
const remote = `${process.env.KINTO_PUSH_URL ?? "http://127.0.0.1:8888"}/v1`;
const run = Date.now().toString(36);
const bucket = `js-${run}`;
const headers = {
  Authorization: `Basic ${Buffer.from(`js-${run}:secret`).toString("base64")}`,
};

function device(name) {
  const client = new Kinto({ remote, bucket, headers, adapterOptions: { dbName: `${run}-${name}` } });
  return { client, tasks: client.collection("tasks") };
}

async function sync(collection) {
  const result = await collection.sync();
  assert.equal(result.ok, true, `sync failed: ${JSON.stringify(result.errors)}`);
  return result;
}

async function step(name, body) {
  await body();
  console.log(`ok - kinto.js: ${name}`);
}

const phone = device("phone");
const laptop = device("laptop");
let milkId;

await step("creates the bucket and the collection", async () => {
  await phone.client.api.createBucket(bucket, { safe: true });
  await phone.client.api.bucket(bucket).createCollection("tasks", { safe: true });
});

await step("publishes a local record", async () => {
  const { data } = await phone.tasks.create({ title: "milk", done: false });
  milkId = data.id;
  const result = await sync(phone.tasks);
  assert.equal(result.published.length, 1);
});

await step("a second device pulls it", async () => {
  const result = await sync(laptop.tasks);
  assert.equal(result.created.length, 1);
  const { data } = await laptop.tasks.get(milkId);
  assert.equal(data.title, "milk");
});

await step("an update travels back", async () => {
  const { data } = await laptop.tasks.get(milkId);
  await laptop.tasks.update({ ...data, done: true });
  await sync(laptop.tasks);
  const result = await sync(phone.tasks);
  assert.equal(result.updated.length, 1);
  assert.equal((await phone.tasks.get(milkId)).data.done, true);
});

await step("concurrent edits surface as a conflict and resolve", async () => {
  const mine = (await phone.tasks.get(milkId)).data;
  const theirs = (await laptop.tasks.get(milkId)).data;
  await laptop.tasks.update({ ...theirs, title: "oat milk" });
  await sync(laptop.tasks);
  await phone.tasks.update({ ...mine, title: "soy milk" });

  const conflicted = await phone.tasks.sync();
  assert.equal(conflicted.conflicts.length, 1);
  assert.equal(conflicted.conflicts[0].remote.title, "oat milk");
  await phone.tasks.resolve(conflicted.conflicts[0], conflicted.conflicts[0].local);
  await sync(phone.tasks);
  await sync(laptop.tasks);
  assert.equal((await laptop.tasks.get(milkId)).data.title, "soy milk");
});

await step("a deletion syncs as a tombstone", async () => {
  await laptop.tasks.delete(milkId);
  await sync(laptop.tasks);
  const result = await sync(phone.tasks);
  assert.equal(result.deleted.length, 1);
  const { data } = await phone.tasks.list();
  assert.equal(data.length, 0);
});

await step("many records go up in batches", async () => {
  for (let n = 0; n < 40; n += 1) {
    await phone.tasks.create({ title: `task ${n}` });
  }
  await sync(phone.tasks);
  const result = await sync(laptop.tasks);
  assert.equal(result.created.length, 40);
});

await step("syncs through the default bucket, created on first use", async () => {
  const options = { remote, headers, adapterOptions: { dbName: `${run}-default` } };
  const notes = new Kinto(options).collection("notes");
  await notes.create({ text: "hello" });
  const result = await sync(notes);
  assert.equal(result.published.length, 1);
  const again = new Kinto({ ...options, adapterOptions: { dbName: `${run}-default-2` } });
  const pulled = await sync(again.collection("notes"));
  assert.equal(pulled.created.length, 1);
});

console.log("kinto.js: 8 passed, 0 failed");
