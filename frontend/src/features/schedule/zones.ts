/** IANA time zones: the list the browser knows, a search over it, and how a moment reads there. */

const FALLBACK = ["UTC", "Europe/Berlin", "Europe/London", "Europe/Vienna", "Europe/Zurich", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"];

export function allZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const zones = intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : FALLBACK;
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}

export function isZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return name.length > 0;
  } catch {
    return false;
  }
}

/** Zones whose name contains every word of the query (spaces match `_` and `/`), best first. */
export function searchZones(zones: string[], query: string, limit = 50): string[] {
  const words = query.toLowerCase().trim().split(/[\s/_]+/).filter(Boolean);
  if (words.length === 0) return zones.slice(0, limit);
  const scored = zones
    .map((zone) => {
      const name = zone.toLowerCase();
      if (!words.every((w) => name.includes(w))) return null;
      const city = name.split("/").pop() ?? name;
      const score = city.startsWith(words[0]) ? 0 : name.startsWith(words[0]) ? 1 : 2;
      return { zone, score };
    })
    .filter((x): x is { zone: string; score: number } => x !== null)
    .sort((a, b) => a.score - b.score || a.zone.localeCompare(b.zone));
  return scored.slice(0, limit).map((x) => x.zone);
}

/** `GMT+2`-style offset of `zone` at `at`. */
export function offsetLabel(zone: string, at: Date = new Date()): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" })
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}

/** `Mon, 29 Mar 2027, 06:30 GMT+2`: a moment as it reads in `zone`. */
export function formatInZone(at: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    weekday: "short",
    day: "2-digit",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "shortOffset",
  }).format(at);
}
