import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Refresher, type RefreshStatus } from "../src/refresh";

describe("Refresher", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("refreshes every interval and records the last update", async () => {
    let calls = 0;
    const refresher = new Refresher(
      async () => void calls++,
      5_000,
      undefined,
      () => new Date(0),
    );
    await refresher.refresh();
    expect(calls).toBe(1);
    expect(refresher.status.lastUpdate).toEqual(new Date(0));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    refresher.stop();
  });

  it("stops while paused and refreshes at once on resume", async () => {
    let calls = 0;
    const refresher = new Refresher(async () => void calls++, 1_000);
    await refresher.refresh();
    refresher.setPaused(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
    refresher.setPaused(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    refresher.stop();
  });

  it("reports a failure and keeps polling", async () => {
    const seen: RefreshStatus[] = [];
    let fail = true;
    const refresher = new Refresher(
      async () => {
        if (fail) throw new Error("502 Bad Gateway");
      },
      1_000,
      (status) => seen.push(status),
    );
    await refresher.refresh();
    expect(refresher.status.error).toBe("502 Bad Gateway");
    expect(seen.some((s) => s.loading)).toBe(true);
    fail = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(refresher.status.error).toBeNull();
    refresher.stop();
  });

  it("never runs two refreshes at once", async () => {
    let running = 0;
    let most = 0;
    let release: () => void = () => {};
    const refresher = new Refresher(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => (release = resolve));
      running--;
    }, 1_000);
    const done = refresher.refresh();
    void refresher.refresh(); // queued behind the first, runs right after it
    await vi.advanceTimersByTimeAsync(0);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(running).toBe(1); // the queued refresh, started only once the first ended
    release();
    await done;
    expect(most).toBe(1);
    refresher.stop();
  });
});
