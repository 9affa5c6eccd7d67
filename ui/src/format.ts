// Numbers, durations and times as the dashboard shows them. Pure functions: `now` is passed in.

import { type FlowRun, STATES, type State, type StateCounts } from "./api";

export interface StateCount {
  state: State;
  label: string;
  count: number;
  /** Share of all runs, 0..100, rounded; 0 when there are no runs at all. */
  percent: number;
}

const number = new Intl.NumberFormat("en-US");

/** `1234` -> `1,234`; past 100,000 a compact form (`123k`, `1.2M`) keeps the cards narrow. */
export function formatCount(n: number): string {
  if (n < 100_000) return number.format(n);
  const [value, unit] = n < 1_000_000 ? [n / 1_000, "k"] : [n / 1_000_000, "M"];
  return `${value >= 100 ? Math.floor(value) : Math.floor(value * 10) / 10}${unit}`;
}

export function stateLabel(state: State): string {
  return state.charAt(0) + state.slice(1).toLowerCase();
}

/** Every state in lifecycle order, even ones the server left out, with its share of the total. */
export function summarizeCounts(counts: Partial<StateCounts>): {
  total: number;
  items: StateCount[];
} {
  const total = STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
  const items = STATES.map((state) => {
    const count = counts[state] ?? 0;
    return {
      state,
      label: stateLabel(state),
      count,
      percent: total ? Math.round((count / total) * 100) : 0,
    };
  });
  return { total, items };
}

/** `42 s`, `3 min 05 s`, `2 h 07 min`: coarse enough to read at a glance. */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** How long a run took, or has been running; `—` before it started. */
export function runDuration(start: string | null, end: string | null, now: Date): string {
  if (!start) return "—";
  const finish = end ? Date.parse(end) : now.getTime();
  return formatDuration(finish - Date.parse(start));
}

/** `in 5 min`, `3 h ago`, `just now`. */
export function relativeTime(iso: string, now: Date): string {
  const diff = Date.parse(iso) - now.getTime();
  const abs = Math.abs(diff);
  if (abs < 5_000) return "just now";
  const units: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1_000, "s"],
  ];
  const [size, unit] = units.find(([size]) => abs >= size) ?? units[units.length - 1];
  const amount = `${Math.floor(abs / size)} ${unit}`;
  return diff > 0 ? `in ${amount}` : `${amount} ago`;
}

/** `2026-11-21 05:16:03` in the browser's time zone: sortable, unambiguous. */
export function formatTimestamp(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** Python logging level numbers, as the worker sends them. */
export function levelName(level: number): string {
  if (level >= 50) return "CRITICAL";
  if (level >= 40) return "ERROR";
  if (level >= 30) return "WARNING";
  if (level >= 20) return "INFO";
  return "DEBUG";
}

/** A run's name, or for a run created without one its short id, so every row has a link. */
export function runLabel(run: Pick<FlowRun, "id" | "name">): string {
  return run.name || `run ${run.id.slice(0, 8)}`;
}
