import { performance } from "node:perf_hooks";

import { expect, test } from "@playwright/test";

import {
  addNote,
  bridgePushes,
  channelOf,
  createCollection,
  freshUser,
  noteTitled,
  sharedCollection,
  signIn,
} from "../support/journey";

// How fast the app is where users feel it. Each figure is printed as a
// line starting with "bench:"; BENCHMARKS.md records them.

/** Percentiles of `samples`, in ms, with one decimal. */
function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const fixed = (ms: number) => ms.toFixed(1);
  return `n=${sorted.length} p50=${fixed(at(0.5))} p90=${fixed(at(0.9))} max=${fixed(sorted[sorted.length - 1])} ms`;
}

/** Epoch milliseconds with sub-millisecond precision, as a page counts them. */
const now = () => performance.timeOrigin + performance.now();

const ROUNDS = 40;

test("a write reaches another user's open page", async ({ browser, baseURL, request }) => {
  const shared = await sharedCollection(browser, baseURL ?? "", request);
  const { alice, bobPage, collectionURL } = shared;
  const bridge = await bridgePushes(bobPage, request, shared.keys);
  const records = `/v1${channelOf(collectionURL)}/records`;
  const headers = { Authorization: alice.authorization };

  const syncState = bobPage.getByTestId("sync-state");
  const samples: number[] = [];
  const toPushService: number[] = [];
  for (let round = 0; round < ROUNDS + 3; round += 1) {
    const title = `Round ${round}`;
    const started = now();
    const written = await request.post(records, { headers, data: { data: { title, text: "" } } });
    expect(written.status()).toBe(201);
    await expect(noteTitled(bobPage, title)).toBeVisible();
    // The page stamps the moment a sync's changes reached its list.
    const arrived = Number(await syncState.getAttribute("data-synced-at"));
    // The first rounds warm the worker, the connections and the caches.
    if (round >= 3) {
      samples.push(arrived - started);
      toPushService.push(bridge.heardAt[round] - started);
    }
  }
  await bridge.stop();
  await expect(noteTitled(bobPage, `Round ${ROUNDS + 2}`)).toBeVisible();

  console.log(`bench: write to another page's DOM, warm worker: ${summary(samples)}`);
  console.log(`bench: of which write to the push service's hands: ${summary(toPushService)}`);
  await shared.aliceContext.close();
  await shared.bobContext.close();
});

/** Time to first byte of `path`, fetched `rounds` times with `cookie`. */
async function timeToFirstByte(url: string, cookie: string, rounds: number): Promise<number[]> {
  const samples: number[] = [];
  const toPushService: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = now();
    const response = await fetch(url, { headers: { cookie } });
    const reader = response.body?.getReader();
    await reader?.read();
    samples.push(now() - started);
    await reader?.cancel();
  }
  return samples;
}

test("server-rendered pages answer quickly", async ({ page, baseURL }) => {
  const user = freshUser("ttfb");
  await signIn(page, user);
  const collectionURL = await createCollection(page, "Timing");
  for (let note = 0; note < 20; note += 1) await addNote(page, `Note ${note}`, "Some text");
  const cookies = await page.context().cookies();
  const cookie = cookies.map(({ name, value }) => `${name}=${value}`).join("; ");
  const base = baseURL ?? "";

  await timeToFirstByte(`${base}/`, cookie, 5);
  const board = await timeToFirstByte(`${base}/`, cookie, 50);
  const notes = await timeToFirstByte(collectionURL, cookie, 50);
  const signedOut = await timeToFirstByte(`${base}/`, "", 50);

  console.log(`bench: time to first byte, sign-in page: ${summary(signedOut)}`);
  console.log(`bench: time to first byte, board: ${summary(board)}`);
  console.log(`bench: time to first byte, collection of 20 notes: ${summary(notes)}`);
});
