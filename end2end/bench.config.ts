import { defineConfig } from "@playwright/test";

import base from "./playwright.config";

// The browser benchmarks: `cargo xtask bench-app` starts a release server
// and the fake push service and runs these one at a time, so that nothing
// else competes for the machine while they measure.
export default defineConfig({
  ...base,
  testDir: "./bench",
  testMatch: "**/*.bench.ts",
  outputDir: "./artifacts/bench",
  timeout: 180_000,
  fullyParallel: false,
  workers: 1,
});
