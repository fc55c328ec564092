import { expect, test } from "@playwright/test";

test.describe("the start page", () => {
  test("arrives server-rendered, with content before any script runs", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();

    await page.goto("/");

    await expect(page).toHaveTitle("kinto-push");
    await expect(page.getByRole("heading", { level: 1, name: "kinto-push" })).toBeVisible();
    const button = page.getByRole("button", { name: "Clicked 0 times" });
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute("data-hydrated", "false");
    await expect(page.getByRole("status")).toHaveAttribute("data-state", "waiting");
    await context.close();
  });

  test("works once hydrated", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    await page.goto("/");
    const button = page.getByRole("button", { name: /^Clicked/ });
    await expect(button).toHaveAttribute("data-hydrated", "true");
    await button.click();
    await button.click();

    await expect(button).toHaveText("Clicked 2 times");
    expect(errors).toEqual([]);
  });

  test("answers unknown paths with a 404 page", async ({ page }) => {
    const response = await page.goto("/no/such/page");

    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});
