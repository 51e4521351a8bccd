import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError } from "@/api/errors";
import { CsvErrorList } from "./CsvImport";
import { rowErrors } from "./csvErrors";

const csv = "zammad,kimai\n3,12\nx,4\n3,13\n";

describe("CSV import errors", () => {
  it("lists each bad row with its line of the file and the problem", () => {
    const error = new ApiError("invalid", 400, {
      detail: "the CSV has errors",
      errors: [
        { field: "row 4", message: "zammad id 3 appears twice" },
        { field: "row 3", message: "zammad must be a positive id" },
      ],
    });
    render(<CsvErrorList error={error} csv={csv} />);
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Nothing was imported: 2 rows need fixing.");
    const rows = within(alert).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(["3x,4zammad must be a positive id", "43,13zammad id 3 appears twice"]);
  });

  it("shows a whole-file problem without a row", () => {
    const error = new ApiError("invalid", 400, { detail: "bad", errors: [{ field: "body", message: "the header must be zammad,kimai" }] });
    render(<CsvErrorList error={error} csv="a,b" />);
    expect(screen.getByRole("alert")).toHaveTextContent("file");
    expect(rowErrors(error.fieldErrors)).toEqual([{ row: null, message: "the header must be zammad,kimai" }]);
  });

  it("shows the message of a failure that is not about rows", () => {
    render(<CsvErrorList error={new ApiError("forbidden", 403, null)} csv={csv} />);
    expect(screen.getByRole("alert")).toHaveTextContent("Your role may only read");
  });
});
