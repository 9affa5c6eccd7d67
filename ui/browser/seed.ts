// Flows and runs in every state, made through the HTTP API as a worker or a client would.

import { randomBytes } from "node:crypto";
import type { Flow, FlowRun, State } from "../src/api";

/** Every seeded run is given a name. */
export type NamedRun = FlowRun & { name: string };

export interface Seeded {
  flows: Flow[];
  runs: NamedRun[];
  counts: Record<State, number>;
}

/** The state changes that bring a new (SCHEDULED) run to each state. */
const PATHS: Record<State, State[]> = {
  SCHEDULED: [],
  PENDING: ["PENDING"],
  RUNNING: ["PENDING", "RUNNING"],
  COMPLETED: ["PENDING", "RUNNING", "COMPLETED"],
  FAILED: ["PENDING", "RUNNING", "FAILED"],
  CANCELLED: ["CANCELLED"],
};

const PLAN: Record<string, State[]> = {
  "nightly-etl": ["COMPLETED", "COMPLETED", "FAILED", "RUNNING"],
  "weekly-report": ["COMPLETED", "SCHEDULED", "CANCELLED"],
  "train-model": ["FAILED", "PENDING", "SCHEDULED"],
};

/** A token for the test server to require (FLOWDESK_API_TOKEN), made afresh for each run. */
export function newToken(): string {
  return randomBytes(16).toString("hex");
}

/** The headers of a JSON request that shows `token`. */
export function withToken(token: string): Record<string, string> {
  return { "Content-Type": "application/json", Authorization: `Bearer ${token}` };
}

async function call<T>(method: string, url: string, body: unknown, token: string): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: withToken(token),
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function seed(api: string, token: string): Promise<Seeded> {
  const flows: Flow[] = [];
  const runs: NamedRun[] = [];
  const counts = { SCHEDULED: 0, PENDING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 };
  let minutesAgo = 60;
  for (const [name, states] of Object.entries(PLAN)) {
    const flow = await call<Flow>("POST", `${api}/flows`, { name }, token);
    flows.push(flow);
    for (const [index, state] of states.entries()) {
      const expected = new Date(Date.now() - minutesAgo-- * 60_000).toISOString();
      let run = await call<FlowRun>(
        "POST",
        `${api}/flow_runs`,
        {
          flow_id: flow.id,
          name: `${name}-${index + 1}`,
          parameters: { batch: index + 1 },
          expected_start_time: expected,
        },
        token,
      );
      for (const next of PATHS[state]) {
        run = await call<FlowRun>(
          "POST",
          `${api}/flow_runs/${run.id}/set_state`,
          { state: next },
          token,
        );
      }
      await call(
        "POST",
        `${api}/flow_runs/${run.id}/logs`,
        [
          { level: 20, message: `${run.name} reached ${state}` },
          ...(state === "FAILED" ? [{ level: 40, message: "ValueError: bad input row 42" }] : []),
        ],
        token,
      );
      if (!run.name) throw new Error(`seeded run ${run.id} came back without its name`);
      runs.push({ ...run, name: run.name });
      counts[state]++;
    }
  }
  return { flows, runs, counts };
}
