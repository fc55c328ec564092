import { expect, test } from "@playwright/test";

test.describe("the API", () => {
  test("says hello at /v1/", async ({ request, baseURL }) => {
    const response = await request.get("/v1/");

    expect(response.status()).toBe(200);
    const hello = await response.json();
    expect(hello.project_name).toBe("kinto-push");
    expect(hello.http_api_version).toBe("1.23");
    expect(hello.url).toBe(`${baseURL}/v1/`);
    expect(typeof hello.project_version).toBe("string");
  });

  test("answers unknown API paths with a Kinto JSON error", async ({ request }) => {
    const response = await request.get("/v1/no-such-thing");

    expect(response.status()).toBe(404);
    expect((await response.json()).errno).toBe(111);
  });
});
