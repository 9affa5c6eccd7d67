import { describe, expect, it } from "vitest";
import {
  isFiltered,
  NO_FILTER,
  parseRoute,
  routeToHash,
  selectFlow,
  toggleState,
} from "../src/filters";

describe("parseRoute", () => {
  it("shows every run when the hash is empty", () => {
    expect(parseRoute("")).toEqual({ view: "runs", filter: { flowId: null, states: [] } });
    expect(parseRoute("#/")).toEqual({ view: "runs", filter: { flowId: null, states: [] } });
  });

  it("reads the flow and states, dropping unknown and repeated states", () => {
    const route = parseRoute("#/?flow=abc&state=failed&state=BOGUS&state=SCHEDULED&state=FAILED");
    expect(route).toEqual({
      view: "runs",
      filter: { flowId: "abc", states: ["SCHEDULED", "FAILED"] },
    });
  });

  it("recognises a run's page and keeps the filter to go back to", () => {
    expect(parseRoute("#/runs/r%201?state=RUNNING")).toEqual({
      view: "run",
      runId: "r 1",
      filter: { flowId: null, states: ["RUNNING"] },
    });
  });
});

describe("routeToHash", () => {
  it("round-trips through parseRoute", () => {
    const routes = [
      { view: "runs" as const, filter: NO_FILTER },
      { view: "runs" as const, filter: { flowId: "f/1", states: ["PENDING" as const] } },
      {
        view: "run" as const,
        runId: "id?&",
        filter: { flowId: null, states: ["COMPLETED" as const] },
      },
    ];
    for (const route of routes) expect(parseRoute(routeToHash(route))).toEqual(route);
  });

  it("writes a bare path when nothing is filtered", () => {
    expect(routeToHash({ view: "runs", filter: NO_FILTER })).toBe("#/");
  });
});

describe("filter changes", () => {
  it("toggles a state on and off, keeping lifecycle order", () => {
    const one = toggleState(NO_FILTER, "FAILED");
    const two = toggleState(one, "PENDING");
    expect(two.states).toEqual(["PENDING", "FAILED"]);
    expect(toggleState(two, "FAILED").states).toEqual(["PENDING"]);
  });

  it("selects a flow without touching the states", () => {
    const filter = selectFlow(toggleState(NO_FILTER, "RUNNING"), "f1");
    expect(filter).toEqual({ flowId: "f1", states: ["RUNNING"] });
    expect(isFiltered(filter)).toBe(true);
    expect(isFiltered(selectFlow({ ...filter, states: [] }, null))).toBe(false);
  });
});
