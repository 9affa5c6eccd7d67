// Global set-up for the browser test: migrate a temporary SQLite database, start
// `flowdesk server start` on a free port, seed it through the HTTP API, and stop it afterwards.
// `flowdesk` must be on PATH (nox puts its session's venv there; locally, activate .venv).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { newToken, seed, type Seeded } from "./seed";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    seeded: Seeded;
    token: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

async function waitForHealth(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null)
      throw new Error(`flowdesk server exited with ${server.exitCode}:\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`flowdesk server did not answer ${url} within 30 s:\n${log()}`);
}

export default async function setup(project: TestProject): Promise<() => void> {
  const folder = mkdtempSync(join(tmpdir(), "flowdesk-ui-"));
  const token = newToken();
  const env = {
    ...process.env,
    FLOWDESK_DATABASE_URL: `sqlite:///${join(folder, "flowdesk.db")}`,
    FLOWDESK_API_TOKEN: token, // so every test also proves the UI sends it
  };
  const upgrade = spawnSync("flowdesk", ["server", "database", "upgrade", "-y"], {
    env,
    encoding: "utf8",
  });
  if (upgrade.error) {
    throw new Error(
      `cannot run flowdesk (${upgrade.error.message}): activate the venv or run 'nox -s ui'.`,
    );
  }
  if (upgrade.status !== 0)
    throw new Error(`flowdesk server database upgrade failed:\n${upgrade.stderr}`);

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Its own process group, so the teardown stops the server and anything it started.
  const server = spawn("flowdesk", ["server", "start", "--port", String(port)], {
    env,
    detached: true,
  });
  let output = "";
  server.stdout?.on("data", (chunk) => (output += chunk));
  server.stderr?.on("data", (chunk) => (output += chunk));

  const teardown = () => {
    if (server.exitCode === null && server.pid) process.kill(-server.pid, "SIGTERM");
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    await waitForHealth(`${baseUrl}/api/health`, server, () => output);
    project.provide("baseUrl", baseUrl);
    project.provide("token", token);
    project.provide("seeded", await seed(`${baseUrl}/api`, token));
  } catch (error) {
    teardown();
    throw error;
  }
  return teardown;
}
