import { useState } from "react";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ZonePicker } from "./ZonePicker";

function Harness() {
  const [zone, setZone] = useState("Europe/Berlin");
  return (
    <>
      <label htmlFor="z">Zone</label>
      <ZonePicker id="z" value={zone} onChange={setZone} />
      <output aria-label="chosen">{zone}</output>
    </>
  );
}

describe("ZonePicker", () => {
  it("searches zones by words and chooses with the keyboard", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const button = screen.getByRole("combobox", { name: "Zone" });
    expect(button).toHaveTextContent("Europe/Berlin".replace("_", " "));
    await user.click(button);
    await user.type(screen.getByPlaceholderText(/Search zones/), "new york");
    expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual([expect.stringContaining("America/New York")]);
    await user.keyboard("{Enter}");
    expect(screen.getByLabelText("chosen")).toHaveTextContent("America/New_York");
    expect(screen.queryByRole("option")).not.toBeInTheDocument();
  });
});
