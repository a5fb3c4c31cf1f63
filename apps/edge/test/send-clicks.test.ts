// The edge's promise that a redirected click is never silently dropped: queue sends are retried,
// then written through the API worker, and only logged as lost when both paths fail. The queue and
// the service binding are stand-ins here (workerd cannot be told to fail a real queue send).

import type { ClickBatchMessage, ClickEvent } from "@afftrack/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sendClicks } from "../src/click-batch";
import type { EdgeEnv } from "../src/env";

const event = { click_id: "clk_0000000000000000000000000", verdict: "valid" } as unknown as ClickEvent;

function envWith(queue: Partial<Queue<ClickBatchMessage>>, links: Partial<EdgeEnv["LINKS"]>): EdgeEnv {
  return { CLICKS: queue, LINKS: links } as unknown as EdgeEnv;
}

afterEach(() => vi.restoreAllMocks());

describe("sendClicks", () => {
  it("sends the batch once when the queue accepts it", async () => {
    const send = vi.fn().mockResolvedValue(undefined);
    const recordClicks = vi.fn();
    await sendClicks(envWith({ send }, { recordClicks }), [event]);
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]).toEqual([{ v: 1, clicks: [event] }, { contentType: "json" }]);
    expect(recordClicks).not.toHaveBeenCalled();
  });

  it("retries a failing send and succeeds without the fallback", async () => {
    const send = vi.fn().mockRejectedValueOnce(new Error("queue busy")).mockResolvedValue(undefined);
    const recordClicks = vi.fn();
    await sendClicks(envWith({ send }, { recordClicks }), [event]);
    expect(send).toHaveBeenCalledTimes(2);
    expect(recordClicks).not.toHaveBeenCalled();
  });

  it("writes through the API worker after three failed sends, and says so", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const send = vi.fn().mockRejectedValue(new Error("queue down"));
    const recordClicks = vi.fn().mockResolvedValue(1);
    await sendClicks(envWith({ send }, { recordClicks }), [event]);
    expect(send).toHaveBeenCalledTimes(3);
    expect(recordClicks).toHaveBeenCalledWith([event]);
    expect(warn.mock.calls.flat().join(" ")).toContain("writing clicks directly");
  });

  it("logs the click ids as lost when both the queue and the API fail", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const send = vi.fn().mockRejectedValue(new Error("queue down"));
    const recordClicks = vi.fn().mockRejectedValue(new Error("api down"));
    await sendClicks(envWith({ send }, { recordClicks }), [event]);
    const logged = error.mock.calls.flat().join(" ");
    expect(logged).toContain("clicks lost");
    expect(logged).toContain(event.click_id);
  });
});
