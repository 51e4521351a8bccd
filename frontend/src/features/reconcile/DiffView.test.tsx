import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { DiffView } from "./DiffView";

describe("DiffView", () => {
  it("highlights the differing rows and only those", () => {
    render(
      <DiffView
        desired={{ begin: "2026-11-20T09:00:00", end: "2026-11-20T09:30:00", duration_secs: 1800, activity: 3, project: 7, user: 2, description: "A", tags: [] }}
        kimai={{ id: 41, begin: "2026-11-20T09:00:00+01:00", end: "2026-11-20T09:30:00+01:00", duration_secs: 1800, activity: 4, project: 7, user: 2, description: "B", tags: [] }}
      />,
    );
    const differing = screen
      .getAllByRole("row")
      .filter((r) => r.getAttribute("data-differs") === "true")
      .map((r) => r.querySelector("th")?.textContent);
    expect(differing).toEqual(["Activity", "Description"]);
    expect(screen.getByRole("columnheader", { name: "Kimai #41" })).toBeInTheDocument();
    const cell = screen.getByRole("cell", { name: "#4" });
    expect(cell.className).toContain("bg-amber-50");
  });

  it("says when Kimai has no timesheet", () => {
    render(<DiffView desired={{ begin: "2026-11-20T09:00:00", end: "2026-11-20T09:30:00", duration_secs: 1800, activity: 3, project: 7, user: 2, description: "A", tags: [] }} kimai={null} />);
    expect(screen.getByRole("columnheader", { name: "Kimai — none" })).toBeInTheDocument();
  });

  it("tells the conflict's story when neither side has a timesheet", () => {
    render(<DiffView desired={null} kimai={null} detail="no Kimai user with e-mail carla@example.com" />);
    expect(screen.getByTestId("conflict-detail")).toHaveTextContent("No timesheet on either side yet. no Kimai user with e-mail carla@example.com");
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });
});
