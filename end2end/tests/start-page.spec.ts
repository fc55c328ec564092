import { expect, test } from "@playwright/test";

test.describe("the start page", () => {
  test("arrives server-rendered, with content before any script runs", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();

    await page.goto("/");

    await expect(page).toHaveTitle("kinto-push");
    await expect(page.getByRole("heading", { level: 1, name: "kinto-push" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await expect(page.getByLabel("User name")).toBeVisible();
    await expect(page.getByLabel("Password")).toBeVisible();
    await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "waiting");
    await context.close();
  });

  test("hydrates without errors and starts the worker", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    await page.goto("/");

    await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");
    expect(errors).toEqual([]);
  });

  test("answers unknown paths with a 404 page", async ({ page }) => {
    const response = await page.goto("/no/such/page");

    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});
