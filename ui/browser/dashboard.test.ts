// The dashboard in headless Chromium against a real, seeded flowdesk server.

import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { withToken } from "./seed";

// Debian's package; Google Chrome where that is what the machine has (GitHub's runners).
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const executablePath = process.env.CHROMIUM_PATH ?? CANDIDATES.find((path) => existsSync(path));
const SHOTS = resolve(process.env.UI_TEST_OUTPUT ?? "test-results");

const baseUrl = inject("baseUrl");
const seeded = inject("seeded");
const token = inject("token");
let browser: Browser;
let page: Page;

async function shoot(name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function rowNames(): Promise<string[]> {
  return page.locator('[data-testid="run-row"] td:first-child').allTextContents();
}

/** Wait until the run list shows exactly `names` (in any order). */
async function expectRows(names: string[]): Promise<void> {
  await expect
    .poll(async () => (await rowNames()).sort(), { timeout: 10_000 })
    .toEqual([...names].sort());
}

describe("dashboard", () => {
  beforeAll(async () => {
    if (!executablePath)
      throw new Error(`no Chromium at ${CANDIDATES.join(", ")}: set CHROMIUM_PATH.`);
    browser = await chromium.launch({
      executablePath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(`${baseUrl}/`);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("asks for the API token the server wants, then shows the dashboard", async () => {
    const form = page.locator('[data-testid="token-form"]');
    await expect.poll(() => form.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await rowNames()).toEqual([]);
    await page.locator('[data-testid="token-input"]').fill(token);
    await form.locator("button").click();
    await expectRows(seeded.runs.map((run) => run.name));
    expect(await form.isVisible()).toBe(false);
  });

  it("lists every seeded run with its state and the flows", async () => {
    await expectRows(seeded.runs.map((run) => run.name));
    for (const run of seeded.runs) {
      const row = page.locator('[data-testid="run-row"]', { hasText: run.name });
      await expect.poll(() => row.getAttribute("data-state")).toBe(run.state);
    }
    const flows = await page.locator('[data-testid="flows"] button').allTextContents();
    expect(flows).toEqual(["All flows", ...seeded.flows.map((flow) => flow.name).sort()]);
    await expect
      .poll(() => page.locator('[data-testid="refresh-status"]').textContent())
      .toMatch(/Auto-refresh every 5 s · updated/);
    await shoot("dashboard");
  });

  it("shows the count of runs in each state", async () => {
    for (const [state, count] of Object.entries(seeded.counts)) {
      const value = page.locator(`[data-testid="count-${state}"] .count-value`);
      await expect.poll(() => value.textContent()).toBe(String(count));
    }
    await expect
      .poll(() => page.locator('[data-testid="count-total"] .count-value').textContent())
      .toBe(String(seeded.runs.length));
  });

  it("filters by state", async () => {
    await page.click('[data-testid="count-FAILED"]');
    const failed = seeded.runs.filter((run) => run.state === "FAILED");
    await expectRows(failed.map((run) => run.name));
    expect(page.url()).toContain("state=FAILED");
    await shoot("filtered-failed");
    await page.click('[data-testid="count-total"]');
    await expectRows(seeded.runs.map((run) => run.name));
  });

  it("filters by flow, and the counts follow", async () => {
    const flow = seeded.flows.find((f) => f.name === "weekly-report")!;
    await page.click(`[data-flow-id="${flow.id}"]`);
    const runs = seeded.runs.filter((run) => run.flow_id === flow.id);
    await expectRows(runs.map((run) => run.name));
    await expect
      .poll(() => page.locator('[data-testid="count-total"] .count-value').textContent())
      .toBe(String(runs.length));
    await page.click('[data-flow-id=""]');
    await expectRows(seeded.runs.map((run) => run.name));
  });

  it("opens a run with its logs", async () => {
    const run = seeded.runs.find((r) => r.state === "FAILED")!;
    await page.getByRole("link", { name: run.name, exact: true }).click();
    await expect.poll(() => page.locator('[data-testid="run-name"]').textContent()).toBe(run.name);
    const logs = page.locator('[data-testid="logs"]');
    await expect.poll(() => logs.textContent()).toContain("ValueError: bad input row 42");
    await shoot("run-detail");
  });

  it("serves the API docs with no request leaving the server", async () => {
    const docs = await browser.newPage();
    const elsewhere: string[] = [];
    await docs.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(baseUrl)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    await docs.goto(`${baseUrl}/api/docs`);
    await expect
      .poll(() => docs.locator(".swagger-ui .info .title").textContent(), { timeout: 10_000 })
      .toContain("flowdesk");
    const operations = docs.locator(".opblock-summary-path");
    await expect.poll(() => operations.allTextContents()).toContain("/api/flow_runs");
    expect(elsewhere).toEqual([]);
    await docs.screenshot({ path: join(SHOTS, "api-docs.png") });
    await docs.close();
  });

  it("shows a new run on the next auto-refresh, without a reload", async () => {
    await page.goto(`${baseUrl}/`);
    await expectRows(seeded.runs.map((run) => run.name));
    const response = await fetch(`${baseUrl}/api/flow_runs`, {
      method: "POST",
      headers: withToken(token),
      body: JSON.stringify({ flow_id: seeded.flows[0].id, name: "late-arrival" }),
    });
    expect(response.status).toBe(201);
    await expect.poll(rowNames, { timeout: 8_000, interval: 250 }).toContain("late-arrival");
    const unnamed = await fetch(`${baseUrl}/api/flow_runs`, {
      method: "POST",
      headers: withToken(token),
      body: JSON.stringify({ flow_id: seeded.flows[0].id }),
    });
    const { id } = (await unnamed.json()) as { id: string };
    await expect
      .poll(rowNames, { timeout: 8_000, interval: 250 })
      .toContain(`run ${id.slice(0, 8)}`);
    const scheduled = page.locator('[data-testid="count-SCHEDULED"] .count-value');
    await expect.poll(() => scheduled.textContent()).toBe(String(seeded.counts.SCHEDULED + 2));
  });
});
