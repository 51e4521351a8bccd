import { useMemo, useState } from "react";
import { SearchPicker } from "@/components/SearchPicker";
import { allZones, offsetLabel, searchZones } from "./zones";

/** A searchable IANA zone picker showing each zone's current offset. */
export function ZonePicker({ id, value, onChange, disabled }: { id?: string; value: string; onChange: (zone: string) => void; disabled?: boolean }) {
  const zones = useMemo(allZones, []);
  const [query, setQuery] = useState("");
  const options = useMemo(() => {
    const now = new Date();
    return searchZones(zones, query).map((z) => ({ value: z, label: z.replace(/_/g, " "), hint: offsetLabel(z, now) }));
  }, [zones, query]);
  return (
    <SearchPicker
      id={id}
      value={value}
      options={query || options.some((o) => o.value === value) ? options : [{ value, label: value.replace(/_/g, " "), hint: offsetLabel(value) }, ...options]}
      onChange={onChange}
      disabled={disabled}
      filter={{ query, setQuery }}
      searchPlaceholder="Search zones (e.g. berlin, new york)"
      label={id ? undefined : "Time zone"}
    />
  );
}
