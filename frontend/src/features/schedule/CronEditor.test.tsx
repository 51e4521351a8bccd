import { useState } from "react";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { CronEditor } from "./ScheduleDialog";
import { DEFAULT_FORM, type ScheduleForm } from "./cron";

function Harness({ initial }: { initial?: Partial<ScheduleForm> }) {
  const [form, setForm] = useState<ScheduleForm>({ ...DEFAULT_FORM, ...initial });
  return <CronEditor form={form} onChange={setForm} />;
}

describe("CronEditor", () => {
  it("switches presets and shows the cron they write", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    expect(screen.getByLabelText("Cron expression")).toHaveTextContent("0 * * * *");
    await user.click(screen.getByRole("radio", { name: "Every 6 hours" }));
    expect(screen.getByLabelText("Cron expression")).toHaveTextContent("0 */6 * * *");
    await user.click(screen.getByRole("radio", { name: "Daily" }));
    expect(screen.getByRole("radio", { name: "Daily" })).toHaveAttribute("aria-checked", "true");
    expect(screen.getByLabelText("Cron expression")).toHaveTextContent("0 6 * * *");
  });

  it("toggles weekday chips for a weekly schedule", async () => {
    const user = userEvent.setup();
    render(<Harness initial={{ kind: "weekly", weekdays: [1, 2, 3, 4, 5] }} />);
    const days = screen.getByRole("group", { name: "On" });
    await user.click(within(days).getByRole("button", { name: "Fri" }));
    await user.click(within(days).getByRole("button", { name: "Sun" }));
    expect(within(days).getByRole("button", { name: "Sun" })).toHaveAttribute("aria-pressed", "true");
    expect(within(days).getByRole("button", { name: "Fri" })).toHaveAttribute("aria-pressed", "false");
    expect(screen.getByLabelText("Cron expression")).toHaveTextContent("0 6 * * 0,1,2,3,4");
  });

  it("starts a custom cron from the current preset", async () => {
    const user = userEvent.setup();
    render(<Harness initial={{ kind: "daily", hour: 7, minute: 30 }} />);
    await user.click(screen.getByRole("radio", { name: "Custom cron" }));
    const input = screen.getByRole("textbox", { name: "Cron expression" });
    expect(input).toHaveValue("30 7 * * *");
    await user.clear(input);
    await user.type(input, "0 8 * * 1-5");
    expect(input).toHaveValue("0 8 * * 1-5");
  });
});
