import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, apiBase, buildUrl, needsToken } from "../src/api";

describe("apiBase", () => {
  it("defaults to the same origin", () => {
    expect(apiBase(undefined)).toBe("/api");
    expect(apiBase("  ")).toBe("/api");
  });

  it("keeps a configured URL without its trailing slashes", () => {
    expect(apiBase("http://127.0.0.1:4200/api//")).toBe("http://127.0.0.1:4200/api");
  });
});

describe("buildUrl", () => {
  it("joins base and path with exactly one slash", () => {
    expect(buildUrl("/api", "flows")).toBe("/api/flows");
    expect(buildUrl("/api", "/flows")).toBe("/api/flows");
  });

  it("repeats array parameters and leaves out empty ones", () => {
    const url = buildUrl("http://host/api", "flow_runs", {
      flow_id: null,
      state: ["FAILED", "RUNNING"],
      name: "",
      offset: undefined,
      limit: 50,
    });
    expect(url).toBe("http://host/api/flow_runs?state=FAILED&state=RUNNING&limit=50");
  });

  it("encodes values", () => {
    expect(buildUrl("/api", "flows", { q: "a&b=c d" })).toBe("/api/flows?q=a%26b%3Dc+d");
  });
});

describe("ApiClient", () => {
  function recording(status = 200, body: unknown = { items: [], total: 0, limit: 50, offset: 0 }) {
    const urls: string[] = [];
    const fetcher = (async (input: RequestInfo | URL) => {
      urls.push(String(input));
      return new Response(JSON.stringify(body), {
        status,
        headers: { "Content-Type": "application/json" },
      });
    }) as typeof fetch;
    return { urls, client: new ApiClient("/api", fetcher) };
  }

  it("asks for runs with the filter's flow and states", async () => {
    const { urls, client } = recording();
    await client.flowRuns({ flowId: "f1", states: ["PENDING", "FAILED"], limit: 50 });
    expect(urls).toEqual([
      "/api/flow_runs?flow_id=f1&state=PENDING&state=FAILED&limit=50&offset=0",
    ]);
  });

  it("asks for counts of every flow or of one", async () => {
    const { urls, client } = recording();
    await client.counts(null);
    await client.counts("f 1");
    expect(urls).toEqual(["/api/flow_runs/counts", "/api/flow_runs/counts?flow_id=f+1"]);
  });

  it("escapes ids in paths", async () => {
    const { urls, client } = recording(200, []);
    await client.taskRuns("a/b");
    expect(urls).toEqual(["/api/flow_runs/a%2Fb/task_runs"]);
  });

  it("turns an error status into an ApiError carrying the server's detail", async () => {
    const { client } = recording(404, { detail: "flow run x not found" });
    const error = await client.flowRun("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    expect((error as ApiError).message).toContain("flow run x not found");
  });
});

describe("ApiClient with a token", () => {
  function headersSent(token: string | null) {
    const sent: Headers[] = [];
    const fetcher = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      sent.push(new Headers(init?.headers));
      return new Response(JSON.stringify({ detail: "missing or wrong API token" }), {
        status: 401,
        headers: { "Content-Type": "application/json" },
      });
    }) as typeof fetch;
    return { sent, client: new ApiClient("/api", fetcher, () => token) };
  }

  it("sends it as a bearer token, and a 401 says a token is needed", async () => {
    const { sent, client } = headersSent(" abc ");
    const error = await client.flows().catch((e: unknown) => e);
    expect(sent[0].get("Authorization")).toBe("Bearer abc");
    expect(needsToken(error)).toBe(true);
    expect(needsToken(new ApiError(404, "x"))).toBe(false);
  });

  it("sends no Authorization header without one", async () => {
    const { sent, client } = headersSent("");
    await client.flows().catch(() => undefined);
    expect(sent[0].has("Authorization")).toBe(false);
  });
});
