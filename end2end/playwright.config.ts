import { defineConfig, devices } from "@playwright/test";

// `cargo xtask test` builds the release site, starts the server on a free
// loopback port with a fresh database and passes its URL here.
const baseURL = process.env.KINTO_PUSH_E2E_URL ?? "http://127.0.0.1:8888";

export default defineConfig({
  testDir: "./tests",
  outputDir: "./artifacts/results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          // Debian's Chromium: Playwright never downloads a browser here.
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
});
