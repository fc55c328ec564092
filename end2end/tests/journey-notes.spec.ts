import { randomUUID } from "node:crypto";

import { expect, test } from "@playwright/test";

import { addNote, createCollection, freshUser, noteTitled, signIn } from "../support/journey";

// Journey 1: a user signs in, makes a collection and notes, and finds them
// again after a reload, rendered by the server before the page's code runs.

test("notes survive a reload, rendered by the server, then the page hydrates", async ({
  page,
}) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const user = freshUser("writer");
  await signIn(page, user);
  const title = `Groceries ${randomUUID().slice(0, 6)}`;
  const url = await createCollection(page, title);

  await addNote(page, "Milk", "Two litres");
  await addNote(page, "Bread");
  // A title of spaces passes the browser's check; the server refuses it.
  await page.getByLabel("Title", { exact: true }).first().fill("   ");
  await page.getByRole("button", { name: "Add note" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Give it a title." })).toBeVisible();

  // The server's HTML already holds the notes: no script is needed.
  const html = await (await page.request.get(url)).text();
  expect(html).toContain("Milk");
  expect(html).toContain("Two litres");
  expect(html).toContain("Bread");

  await page.reload();
  await expect(noteTitled(page, "Milk")).toBeVisible();
  await expect(noteTitled(page, "Bread")).toBeVisible();
  await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");

  // Hydrated: the done toggle works in place.
  await page.getByRole("button", { name: "Mark done: Milk" }).click();
  await expect(page.getByRole("button", { name: "Mark not done: Milk" })).toBeVisible();
  expect(errors).toEqual([]);
});

test("without scripts, the board and its forms still work", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false });
  const page = await context.newPage();
  const user = freshUser("plain");

  await page.goto("/");
  await page.getByLabel("User name").fill(user.name);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("user-id")).toBeVisible();

  await page.getByLabel("New collection").fill("Plain list");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("link", { name: "Plain list" }).click();
  await page.getByLabel("Title", { exact: true }).first().fill("Written without scripts");
  await page.getByRole("button", { name: "Add note" }).click();

  await expect(noteTitled(page, "Written without scripts")).toBeVisible();
  await context.close();
});

test("a conflicting edit shows their version and keeps mine on request", async ({ page }) => {
  const user = freshUser("editor");
  await signIn(page, user);
  const url = await createCollection(page, `Plans ${randomUUID().slice(0, 6)}`);
  await addNote(page, "Draft");
  const [, , bucket, collection] = new URL(url).pathname.split("/");
  const records = `/v1/buckets/${bucket}/collections/${collection}/records`;
  const headers = { Authorization: user.authorization };
  const listing = await page.request.get(records, { headers });
  const [{ id }] = ((await listing.json()) as { data: { id: string }[] }).data;

  await page.getByRole("link", { name: "Edit Draft" }).click();
  // Another device changes the note meanwhile.
  const changed = await page.request.patch(`${records}/${id}`, {
    headers,
    data: { data: { title: "Theirs" } },
  });
  expect(changed.status()).toBe(200);
  const editor = page.locator(`[data-note-id="${id}"]`);
  await editor.getByLabel("Title").fill("Mine");
  await editor.getByRole("button", { name: "Save" }).click();

  const conflict = page.getByRole("alert").filter({ hasText: "Someone else changed this note" });
  await expect(conflict).toBeVisible();
  await expect(conflict).toContainText("Theirs");
  await conflict.getByRole("button", { name: "Keep mine" }).click();

  await expect(noteTitled(page, "Mine")).toBeVisible();
  const stored = await page.request.get(`${records}/${id}`, { headers });
  expect(((await stored.json()) as { data: { title: string } }).data.title).toBe("Mine");
});
