// The flowdesk HTTP API (docs/api.md): types and a small client. URL building is kept pure so
// it can be tested without a server.

export const STATES = [
  "SCHEDULED",
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
] as const;
export type State = (typeof STATES)[number];
export type StateCounts = Record<State, number>;

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Flow {
  id: string;
  name: string;
  created: string;
  updated: string;
}

export interface FlowRun {
  id: string;
  flow_id: string;
  flow_name: string;
  /** Optional when a run is created: null (or empty) then. */
  name: string | null;
  state: State;
  parameters: Record<string, unknown>;
  expected_start_time: string;
  start_time: string | null;
  end_time: string | null;
  worker: string | null;
  created: string;
  updated: string;
}

export interface TaskRun {
  id: string;
  flow_run_id: string;
  name: string;
  state: State;
  start_time: string | null;
  end_time: string | null;
  created: string;
}

export interface Log {
  id: string;
  flow_run_id: string;
  level: number;
  message: string;
  timestamp: string;
}

export type QueryValue = string | number | null | undefined | readonly string[];

/** The API root: `VITE_API_URL` if the UI is built for another origin, else same-origin `/api`. */
export function apiBase(configured: string | undefined): string {
  const base = configured?.trim() || "/api";
  return base.replace(/\/+$/, "");
}

/** `base` + `path` + query; a list repeats its key (`state=A&state=B`); empty values are dropped. */
export function buildUrl(
  base: string,
  path: string,
  query: Record<string, QueryValue> = {},
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    const values = typeof value === "string" || typeof value === "number" ? [value] : (value ?? []);
    for (const item of values) {
      if (item !== "") params.append(key, String(item));
    }
  }
  const search = params.toString();
  return `${base}/${path.replace(/^\/+/, "")}${search ? `?${search}` : ""}`;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RunQuery {
  flowId: string | null;
  states: readonly State[];
  limit: number;
  offset?: number;
}

/** Where the page keeps the API token it was given: this tab only, gone when it closes. */
export const TOKEN_KEY = "flowdesk.apiToken";

/** A 401: the server wants a token (`FLOWDESK_API_TOKEN`) and this one is missing or wrong. */
export function needsToken(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
    private readonly token: () => string | null = () => null,
  ) {}

  private async get<T>(path: string, query: Record<string, QueryValue> = {}): Promise<T> {
    const url = buildUrl(this.base, path, query);
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = this.token()?.trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await this.fetcher(url, { headers });
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const body = (await response.json()) as { detail?: unknown };
        if (typeof body.detail === "string") detail = body.detail;
      } catch {
        // Not JSON (a proxy error page, say): the status text is all there is.
      }
      throw new ApiError(response.status, `GET ${url}: ${response.status} ${detail}`.trim());
    }
    return (await response.json()) as T;
  }

  flows(limit = 200): Promise<Page<Flow>> {
    return this.get("flows", { limit });
  }

  flowRuns({ flowId, states, limit, offset = 0 }: RunQuery): Promise<Page<FlowRun>> {
    return this.get("flow_runs", { flow_id: flowId, state: states, limit, offset });
  }

  counts(flowId: string | null): Promise<StateCounts> {
    return this.get("flow_runs/counts", { flow_id: flowId });
  }

  flowRun(id: string): Promise<FlowRun> {
    return this.get(`flow_runs/${encodeURIComponent(id)}`);
  }

  taskRuns(id: string): Promise<TaskRun[]> {
    return this.get(`flow_runs/${encodeURIComponent(id)}/task_runs`);
  }

  logs(id: string, limit = 200): Promise<Page<Log>> {
    return this.get(`flow_runs/${encodeURIComponent(id)}/logs`, { limit });
  }
}
