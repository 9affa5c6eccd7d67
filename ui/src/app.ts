// The dashboard: a fixed shell (header, flows, counts, filters) whose parts are redrawn from
// fresh API data on every refresh and on every route change.

import {
  type ApiClient,
  type Flow,
  type FlowRun,
  type Log,
  needsToken,
  type Page,
  type State,
  type StateCounts,
  type TaskRun,
} from "./api";
import { h } from "./dom";
import {
  type Filter,
  isFiltered,
  NO_FILTER,
  parseRoute,
  type Route,
  routeToHash,
  selectFlow,
  toggleState,
} from "./filters";
import {
  formatCount,
  formatTimestamp,
  levelName,
  relativeTime,
  runDuration,
  runLabel,
  stateLabel,
  summarizeCounts,
} from "./format";
import { type RefreshStatus, Refresher } from "./refresh";

const REFRESH_MS = 5_000;
const RUNS_PER_PAGE = 50;

interface Data {
  flows: Flow[];
  counts: StateCounts;
  runs?: Page<FlowRun>;
  run?: { run: FlowRun; tasks: TaskRun[]; logs: Page<Log> };
}

function badge(state: State): HTMLElement {
  return h("span", { class: `badge state-${state.toLowerCase()}` }, stateLabel(state));
}

function navigate(route: Route): void {
  window.location.hash = routeToHash(route);
}

/** Mount the dashboard; ``saveToken`` keeps the token typed in when the API asks for one. */
export function mountDashboard(
  root: HTMLElement,
  api: ApiClient,
  saveToken: (token: string) => void = () => {},
): void {
  const indicator = h("span", { class: "refresh-text", "data-testid": "refresh-status" });
  const dot = h("span", { class: "dot" });
  const pause = h("button", { type: "button", class: "ghost" }, "Pause");
  const reload = h("button", { type: "button", class: "ghost" }, "Refresh");
  const flowsList = h("ul", { class: "flows", "data-testid": "flows" });
  const counts = h("div", { class: "counts", "data-testid": "counts" });
  const content = h("section", { class: "content" });
  const banner = h("div", { class: "error", role: "alert", hidden: true });
  const tokenInput = h("input", {
    type: "password",
    name: "token",
    autocomplete: "off",
    "data-testid": "token-input",
  }) as HTMLInputElement;
  const tokenForm = h(
    "form",
    { class: "token", "data-testid": "token-form", hidden: true },
    h("label", {}, "This server needs its API token ", tokenInput),
    h("button", { type: "submit" }, "Use token"),
  ) as HTMLFormElement;
  let tokenNeeded = false;

  root.replaceChildren(
    h(
      "header",
      { class: "topbar" },
      h("a", { class: "brand", href: "#/" }, "flowdesk"),
      h("div", { class: "refresh" }, dot, indicator, reload, pause),
    ),
    h(
      "div",
      { class: "layout" },
      h("aside", { class: "sidebar" }, h("h2", {}, "Flows"), flowsList),
      h("main", {}, banner, tokenForm, counts, content),
    ),
  );

  let route = parseRoute(window.location.hash);
  let generation = 0;

  async function load(): Promise<void> {
    const current = route;
    const mine = ++generation;
    const answers = Promise.all([
      api.flows(),
      api.counts(current.filter.flowId),
      current.view === "run"
        ? Promise.all([
            api.flowRun(current.runId),
            api.taskRuns(current.runId),
            api.logs(current.runId),
          ])
        : api.flowRuns({ ...current.filter, limit: RUNS_PER_PAGE }),
    ] as const);
    let flows, stateCounts, detail;
    try {
      [flows, stateCounts, detail] = await answers;
    } catch (error) {
      tokenNeeded = needsToken(error);
      throw error;
    }
    tokenNeeded = false;
    if (mine !== generation) return; // the route changed while this was loading
    const data: Data = { flows: flows.items, counts: stateCounts };
    if (Array.isArray(detail)) data.run = { run: detail[0], tasks: detail[1], logs: detail[2] };
    else data.runs = detail;
    render(current, data);
  }

  function render(current: Route, data: Data): void {
    const now = new Date();
    flowsList.replaceChildren(...renderFlows(data.flows, current.filter));
    counts.replaceChildren(...renderCounts(data.counts, current.filter));
    if (data.run) content.replaceChildren(...renderRun(data.run, current.filter, now));
    else if (data.runs)
      content.replaceChildren(...renderRuns(data.runs, data.flows, current.filter, now));
  }

  function showStatus(status: RefreshStatus): void {
    dot.classList.toggle("loading", status.loading);
    dot.classList.toggle("paused", status.paused);
    dot.classList.toggle("failed", status.error !== null);
    const updated = status.lastUpdate
      ? `updated ${formatTimestamp(status.lastUpdate.toISOString()).slice(11)}`
      : "loading…";
    indicator.textContent = status.paused
      ? `Paused · ${updated}`
      : `Auto-refresh every ${REFRESH_MS / 1000} s · ${updated}`;
    pause.textContent = status.paused ? "Resume" : "Pause";
    banner.hidden = !status.error;
    banner.textContent = status.error ? `Cannot reach the API: ${status.error}` : "";
    tokenForm.hidden = !(status.error && tokenNeeded);
  }

  const refresher = new Refresher(load, REFRESH_MS, showStatus);
  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken(tokenInput.value.trim());
    tokenInput.value = "";
    void refresher.refresh();
  });
  pause.addEventListener("click", () => refresher.setPaused(!refresher.status.paused));
  reload.addEventListener("click", () => void refresher.refresh());
  window.addEventListener("hashchange", () => {
    route = parseRoute(window.location.hash);
    void refresher.refresh();
  });
  void refresher.refresh();
}

function renderFlows(flows: Flow[], filter: Filter): HTMLElement[] {
  const item = (flowId: string | null, label: string) =>
    h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: filter.flowId === flowId ? "flow selected" : "flow",
          "data-flow-id": flowId ?? "",
          onclick: () => navigate({ view: "runs", filter: selectFlow(filter, flowId) }),
        },
        label,
      ),
    );
  if (flows.length === 0)
    return [item(null, "All flows"), h("li", { class: "muted" }, "No flows yet")];
  return [item(null, "All flows"), ...flows.map((flow) => item(flow.id, flow.name))];
}

function renderCounts(counts: StateCounts, filter: Filter): HTMLElement[] {
  const summary = summarizeCounts(counts);
  const card = (label: string, value: number, note: string, kind: string, selected: boolean) =>
    h(
      "button",
      { type: "button", class: `count ${kind}${selected ? " selected" : ""}` },
      h("span", { class: "count-label" }, label),
      h("span", { class: "count-value" }, formatCount(value)),
      h("span", { class: "count-note" }, note),
    );
  const total = card(
    "All runs",
    summary.total,
    filter.flowId ? "in this flow" : "in every flow",
    "total",
    filter.states.length === 0,
  );
  total.dataset.testid = "count-total";
  total.addEventListener("click", () =>
    navigate({ view: "runs", filter: { ...filter, states: [] } }),
  );
  const states = summary.items.map((item) => {
    const selected = filter.states.includes(item.state);
    const element = card(
      item.label,
      item.count,
      `${item.percent}%`,
      `state-${item.state.toLowerCase()}`,
      selected,
    );
    element.dataset.testid = `count-${item.state}`;
    element.title = selected
      ? `Showing ${item.label.toLowerCase()} runs: click to stop filtering by it`
      : `Show only ${item.label.toLowerCase()} runs`;
    element.addEventListener("click", () =>
      navigate({ view: "runs", filter: toggleState(filter, item.state) }),
    );
    return element;
  });
  return [total, ...states];
}

function renderFilterBar(filter: Filter, flows: Flow[], shown: number, total: number): HTMLElement {
  const flowName = flows.find((flow) => flow.id === filter.flowId)?.name ?? "unknown flow";
  const chips = [
    filter.flowId
      ? h(
          "span",
          { class: "chip" },
          `flow: ${flowName}`,
          h(
            "button",
            {
              type: "button",
              "aria-label": "Remove flow filter",
              onclick: () => navigate({ view: "runs", filter: selectFlow(filter, null) }),
            },
            "×",
          ),
        )
      : null,
    ...filter.states.map((state) =>
      h(
        "span",
        { class: "chip" },
        `state: ${stateLabel(state)}`,
        h(
          "button",
          {
            type: "button",
            "aria-label": `Remove ${stateLabel(state)} filter`,
            onclick: () => navigate({ view: "runs", filter: toggleState(filter, state) }),
          },
          "×",
        ),
      ),
    ),
  ];
  return h(
    "div",
    { class: "filterbar" },
    h("h1", {}, "Flow runs"),
    h(
      "span",
      { class: "muted", "data-testid": "run-total" },
      `${formatCount(shown)} of ${formatCount(total)} shown`,
    ),
    ...chips,
    isFiltered(filter)
      ? h(
          "button",
          {
            type: "button",
            class: "ghost",
            onclick: () => navigate({ view: "runs", filter: NO_FILTER }),
          },
          "Clear filters",
        )
      : null,
  );
}

function renderRuns(runs: Page<FlowRun>, flows: Flow[], filter: Filter, now: Date): HTMLElement[] {
  const bar = renderFilterBar(filter, flows, runs.items.length, runs.total);
  if (runs.items.length === 0) {
    const message = isFiltered(filter)
      ? "No flow runs match these filters."
      : "No flow runs yet: create one with POST /api/flow_runs, then start a worker.";
    return [bar, h("p", { class: "empty", "data-testid": "runs-empty" }, message)];
  }
  const rows = runs.items.map((run) =>
    h(
      "tr",
      {
        class: "run",
        "data-testid": "run-row",
        "data-state": run.state,
        onclick: () => navigate({ view: "run", runId: run.id, filter }),
      },
      h(
        "td",
        {},
        h("a", { href: routeToHash({ view: "run", runId: run.id, filter }) }, runLabel(run)),
      ),
      h("td", {}, run.flow_name),
      h("td", {}, badge(run.state)),
      h(
        "td",
        { title: formatTimestamp(run.expected_start_time) },
        relativeTime(run.expected_start_time, now),
      ),
      h("td", { class: "num" }, runDuration(run.start_time, run.end_time, now)),
      h("td", { class: "muted" }, run.worker ?? "—"),
    ),
  );
  return [
    bar,
    h(
      "table",
      { class: "runs", "data-testid": "runs" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["Run", "Flow", "State", "Expected start", "Duration", "Worker"].map((t) =>
            h("th", {}, t),
          ),
        ),
      ),
      h("tbody", {}, rows),
    ),
  ];
}

function renderRun(detail: NonNullable<Data["run"]>, filter: Filter, now: Date): HTMLElement[] {
  const { run, tasks, logs } = detail;
  const field = (label: string, value: string) => [h("dt", {}, label), h("dd", {}, value)];
  const when = (iso: string | null) =>
    iso ? `${formatTimestamp(iso)} (${relativeTime(iso, now)})` : "—";
  const taskRows = tasks.map((task) =>
    h(
      "tr",
      {},
      h("td", {}, task.name),
      h("td", {}, badge(task.state)),
      h("td", {}, task.start_time ? formatTimestamp(task.start_time) : "—"),
      h("td", { class: "num" }, runDuration(task.start_time, task.end_time, now)),
    ),
  );
  const logLines = logs.items.map((log) =>
    h(
      "div",
      { class: `log level-${levelName(log.level).toLowerCase()}` },
      h("span", { class: "log-time" }, formatTimestamp(log.timestamp)),
      h("span", { class: "log-level" }, levelName(log.level)),
      h("span", { class: "log-message" }, log.message),
    ),
  );
  return [
    h("a", { class: "back", href: routeToHash({ view: "runs", filter }) }, "← All flow runs"),
    h(
      "div",
      { class: "run-title" },
      h("h1", { "data-testid": "run-name" }, runLabel(run)),
      badge(run.state),
    ),
    h(
      "dl",
      { class: "fields" },
      ...field("Flow", run.flow_name),
      ...field("Run ID", run.id),
      ...field("Expected start", when(run.expected_start_time)),
      ...field("Started", when(run.start_time)),
      ...field("Ended", when(run.end_time)),
      ...field("Duration", runDuration(run.start_time, run.end_time, now)),
      ...field("Worker", run.worker ?? "—"),
    ),
    h("h2", {}, "Parameters"),
    h("pre", { class: "params" }, JSON.stringify(run.parameters, null, 2)),
    h("h2", {}, `Task runs (${tasks.length})`),
    tasks.length
      ? h(
          "table",
          { class: "runs", "data-testid": "task-runs" },
          h(
            "thead",
            {},
            h("tr", {}, ...["Task", "State", "Started", "Duration"].map((t) => h("th", {}, t))),
          ),
          h("tbody", {}, taskRows),
        )
      : h("p", { class: "empty" }, "No task runs."),
    h("h2", {}, `Logs (${logs.total})`),
    logLines.length
      ? h("div", { class: "logs", "data-testid": "logs" }, logLines)
      : h("p", { class: "empty" }, "No logs."),
  ];
}
