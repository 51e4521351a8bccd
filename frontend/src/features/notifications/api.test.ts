import { describe, expect, it } from "vitest";
import { parseDeliveries } from "./api";

describe("parseDeliveries", () => {
  it("shows the chat text, newest first", () => {
    const raw = [
      { received_at: "2026-12-06T10:00:00Z", body: '{"text":"a"}', json: { text: "first" } },
      { received_at: "2026-12-06T10:01:00Z", body: "not json", json: null },
    ];
    expect(parseDeliveries(raw)).toEqual([
      { received_at: "2026-12-06T10:01:00Z", text: "not json" },
      { received_at: "2026-12-06T10:00:00Z", text: "first" },
    ]);
  });

  it("is null where no receiver answered with a list (a deployed console)", () => {
    expect(parseDeliveries({ error: "not found" })).toBeNull();
    expect(parseDeliveries("<html>")).toBeNull();
  });
});
