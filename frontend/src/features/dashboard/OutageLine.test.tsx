import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { OutageLine } from "./OutageLine";

describe("OutageLine", () => {
  it("says since when Kimai is unreachable and how many messages wait", () => {
    render(<OutageLine outage={{ since: "2026-12-05T08:15:00Z", detail: "Kimai answered 503 (server error)", messagesWaiting: 42 }} />);
    const line = screen.getByTestId("kimai-outage");
    expect(line).toHaveTextContent(/^Kimai unreachable since .+, 42 messages waiting$/);
    expect(line).toHaveAttribute("title", "Kimai answered 503 (server error)");
  });

  it("counts one message in the singular and leaves an unknown count out", () => {
    const { rerender } = render(<OutageLine outage={{ since: "2026-12-05T08:15:00Z", detail: "", messagesWaiting: 1 }} />);
    expect(screen.getByTestId("kimai-outage")).toHaveTextContent(/, 1 message waiting$/);
    rerender(<OutageLine outage={{ since: "2026-12-05T08:15:00Z", detail: "", messagesWaiting: null }} />);
    expect(screen.getByTestId("kimai-outage")).not.toHaveTextContent(/waiting/);
  });
});
