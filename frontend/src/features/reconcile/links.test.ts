import { describe, expect, it } from "vitest";
import { kimaiTimesheetUrl, zammadTicketUrl } from "./links";

describe("links out", () => {
  it("opens the Zammad ticket and the Kimai timesheet under their base URLs", () => {
    expect(zammadTicketUrl("https://help.example.com/", 42)).toBe("https://help.example.com/#ticket/zoom/42");
    expect(kimaiTimesheetUrl("https://time.example.com/kimai", 7)).toBe("https://time.example.com/kimai/en/team/timesheet/7/edit");
  });

  it("has no link without a base URL or a timesheet", () => {
    expect(zammadTicketUrl(null, 42)).toBeNull();
    expect(zammadTicketUrl("not a url", 42)).toBeNull();
    expect(kimaiTimesheetUrl("https://time.example.com", null)).toBeNull();
  });
});
