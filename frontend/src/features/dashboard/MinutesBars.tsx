import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatMinutes } from "@/lib/format";

/** The bars of the minutes-per-day chart; its own module so recharts loads only with it. */
export default function MinutesBars({ perDay }: { perDay: { day: string; minutes: number }[] }) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={perDay} margin={{ top: 4, right: 4, bottom: 0, left: -16 }}>
        <CartesianGrid vertical={false} stroke="var(--border)" />
        <XAxis dataKey="day" tickLine={false} axisLine={false} fontSize={11} tickFormatter={(d: string) => d.slice(5)} minTickGap={12} />
        <YAxis tickLine={false} axisLine={false} fontSize={11} width={48} />
        <Tooltip cursor={{ fill: "var(--muted)" }} formatter={(v) => [formatMinutes(Number(v)), "synced"]} />
        <Bar dataKey="minutes" fill="var(--chart-1)" radius={[3, 3, 0, 0]} maxBarSize={36} />
      </BarChart>
    </ResponsiveContainer>
  );
}
