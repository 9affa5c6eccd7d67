// What the dashboard shows lives in the URL hash (`#/?flow=<id>&state=FAILED`, `#/runs/<id>`),
// so a filtered view can be bookmarked, shared and reloaded, and Back works as expected.

import { STATES, type State } from "./api";

export interface Filter {
  flowId: string | null;
  states: State[];
}

export type Route =
  { view: "runs"; filter: Filter } | { view: "run"; runId: string; filter: Filter };

export const NO_FILTER: Filter = { flowId: null, states: [] };

/** Unknown or repeated states are dropped and the rest kept in lifecycle order. */
function normalizeStates(values: Iterable<string>): State[] {
  const wanted = new Set(Array.from(values, (v) => v.toUpperCase()));
  return STATES.filter((state) => wanted.has(state));
}

function parseFilter(search: string): Filter {
  const params = new URLSearchParams(search);
  return { flowId: params.get("flow") || null, states: normalizeStates(params.getAll("state")) };
}

export function parseRoute(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#/, "").split("?", 2);
  const filter = parseFilter(search);
  const match = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (match) return { view: "run", runId: decodeURIComponent(match[1]), filter };
  return { view: "runs", filter };
}

function filterSearch(filter: Filter): string {
  const params = new URLSearchParams();
  if (filter.flowId) params.set("flow", filter.flowId);
  for (const state of filter.states) params.append("state", state);
  const search = params.toString();
  return search ? `?${search}` : "";
}

export function routeToHash(route: Route): string {
  const path = route.view === "run" ? `/runs/${encodeURIComponent(route.runId)}` : "/";
  return `#${path}${filterSearch(route.filter)}`;
}

/** Selecting a state adds it to the filter; selecting it again removes it. */
export function toggleState(filter: Filter, state: State): Filter {
  const states = filter.states.includes(state)
    ? filter.states.filter((s) => s !== state)
    : normalizeStates([...filter.states, state]);
  return { ...filter, states };
}

export function selectFlow(filter: Filter, flowId: string | null): Filter {
  return { ...filter, flowId };
}

export function isFiltered(filter: Filter): boolean {
  return filter.flowId !== null || filter.states.length > 0;
}
