import { describe, expect, it } from "vitest";
import { allZones, formatInZone, isZone, offsetLabel, searchZones } from "./zones";

describe("zones", () => {
  it("lists IANA zones including UTC", () => {
    const zones = allZones();
    expect(zones).toContain("Europe/Berlin");
    expect(zones).toContain("UTC");
  });

  it("searches by words, city first", () => {
    const zones = ["America/New_York", "Europe/Berlin", "Europe/Busingen", "Asia/Tokyo"];
    expect(searchZones(zones, "new york")).toEqual(["America/New_York"]);
    expect(searchZones(zones, "ber")).toEqual(["Europe/Berlin"]);
    expect(searchZones(zones, "europe b")).toEqual(["Europe/Berlin", "Europe/Busingen"]);
    expect(searchZones(zones, "nowhere")).toEqual([]);
  });

  it("knows a zone from a typo", () => {
    expect(isZone("Europe/Berlin")).toBe(true);
    expect(isZone("Europe/Berlinn")).toBe(false);
    expect(isZone("")).toBe(false);
  });

  it("shows the offset of that day", () => {
    expect(offsetLabel("Europe/Berlin", new Date("2027-01-15T12:00:00Z"))).toBe("GMT+1");
    expect(offsetLabel("Europe/Berlin", new Date("2027-07-15T12:00:00Z"))).toBe("GMT+2");
    expect(formatInZone(new Date("2027-03-29T04:30:00Z"), "Europe/Berlin")).toContain("06:30");
    expect(formatInZone(new Date("2027-03-29T04:30:00Z"), "America/New_York")).toContain("00:30");
  });
});
