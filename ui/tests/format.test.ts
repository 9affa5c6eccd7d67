import { describe, expect, it } from "vitest";
import {
  formatCount,
  formatDuration,
  levelName,
  relativeTime,
  runDuration,
  runLabel,
  summarizeCounts,
} from "../src/format";

describe("formatCount", () => {
  it("groups thousands and shortens very large numbers", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(1234)).toBe("1,234");
    expect(formatCount(99_999)).toBe("99,999");
    expect(formatCount(123_456)).toBe("123k");
    expect(formatCount(1_250_000)).toBe("1.2M");
  });
});

describe("summarizeCounts", () => {
  it("lists every state in lifecycle order with its share", () => {
    const { total, items } = summarizeCounts({ COMPLETED: 3, FAILED: 1 });
    expect(total).toBe(4);
    expect(items.map((i) => i.state)).toEqual([
      "SCHEDULED",
      "PENDING",
      "RUNNING",
      "COMPLETED",
      "FAILED",
      "CANCELLED",
    ]);
    expect(items.find((i) => i.state === "COMPLETED")).toEqual({
      state: "COMPLETED",
      label: "Completed",
      count: 3,
      percent: 75,
    });
    expect(items.find((i) => i.state === "PENDING")?.count).toBe(0);
  });

  it("gives 0% rather than NaN when there are no runs", () => {
    const { total, items } = summarizeCounts({});
    expect(total).toBe(0);
    expect(items.every((i) => i.percent === 0)).toBe(true);
  });
});

describe("durations and times", () => {
  const now = new Date("2026-01-01T12:00:00Z");

  it("formats durations coarsely", () => {
    expect(formatDuration(1_234)).toBe("1.2 s");
    expect(formatDuration(42_000)).toBe("42 s");
    expect(formatDuration(185_000)).toBe("3 min 05 s");
    expect(formatDuration(7_620_000)).toBe("2 h 07 min");
    expect(formatDuration(-5)).toBe("0.0 s");
  });

  it("measures a running run up to now and a finished one to its end", () => {
    expect(runDuration(null, null, now)).toBe("—");
    expect(runDuration("2026-01-01T11:59:30Z", null, now)).toBe("30 s");
    expect(runDuration("2026-01-01T11:00:00Z", "2026-01-01T11:00:05+00:00", now)).toBe("5.0 s");
  });

  it("says how long ago or until", () => {
    expect(relativeTime("2026-01-01T11:57:00Z", now)).toBe("3 min ago");
    expect(relativeTime("2026-01-01T14:00:00Z", now)).toBe("in 2 h");
    expect(relativeTime("2026-01-01T12:00:02Z", now)).toBe("just now");
  });

  it("names Python logging levels", () => {
    expect([10, 20, 30, 40, 50, 25].map(levelName)).toEqual([
      "DEBUG",
      "INFO",
      "WARNING",
      "ERROR",
      "CRITICAL",
      "INFO",
    ]);
  });
});

describe("runLabel", () => {
  it("shows the name, or the short id of a run created without one", () => {
    const id = "0f8c2a7e-1d2b-4c3d-9e4f-5a6b7c8d9e0f";
    expect(runLabel({ id, name: "nightly" })).toBe("nightly");
    expect(runLabel({ id, name: null })).toBe("run 0f8c2a7e");
    expect(runLabel({ id, name: "" })).toBe("run 0f8c2a7e");
  });
});
