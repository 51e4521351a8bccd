import { useState, type ReactNode } from "react";
import { Check, ChevronsUpDown } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Command, CommandEmpty, CommandInput, CommandItem, CommandList } from "@/components/ui/command";
import { Popover, PopoverContent, PopoverTrigger } from "@/components/ui/popover";
import { cn } from "@/lib/utils";

export interface PickerOption {
  value: string;
  label: string;
  hint?: string;
  muted?: boolean;
}

/**
 * A button that opens a searchable list (Radix popover + cmdk): type to filter, arrows to move,
 * Enter to choose, Escape to close; focus returns to the button.
 */
export function SearchPicker({
  id,
  value,
  options,
  onChange,
  placeholder = "Choose…",
  searchPlaceholder = "Search…",
  disabled,
  loading,
  filter,
  footer,
  className,
  label,
}: {
  id?: string;
  value: string | null;
  options: PickerOption[];
  onChange: (value: string) => void;
  placeholder?: string;
  searchPlaceholder?: string;
  disabled?: boolean;
  loading?: boolean;
  /** Custom search (e.g. over many zones); by default cmdk filters the given options. */
  filter?: { query: string; setQuery: (q: string) => void };
  footer?: ReactNode;
  className?: string;
  label?: string;
}) {
  const [open, setOpen] = useState(false);
  const selected = options.find((o) => o.value === value);
  return (
    <Popover open={open} onOpenChange={setOpen}>
      <PopoverTrigger asChild>
        <Button id={id} type="button" variant="outline" role="combobox" aria-expanded={open} aria-label={label} disabled={disabled} className={cn("w-full justify-between font-normal", className)}>
          <span className={cn("truncate", !selected && !value && "text-muted-foreground")}>{selected ? selected.label : value || placeholder}</span>
          <ChevronsUpDown className="opacity-50" aria-hidden />
        </Button>
      </PopoverTrigger>
      <PopoverContent className="w-[--radix-popover-trigger-width] min-w-64 p-0">
        <Command shouldFilter={!filter}>
          <CommandInput placeholder={searchPlaceholder} value={filter?.query} onValueChange={filter?.setQuery} />
          <CommandList>
            <CommandEmpty>{loading ? "Loading…" : "Nothing found."}</CommandEmpty>
            {options.map((o) => (
              <CommandItem
                key={o.value}
                value={filter ? o.value : `${o.label} ${o.value} ${o.hint ?? ""}`}
                onSelect={() => {
                  onChange(o.value);
                  setOpen(false);
                }}
              >
                <Check className={cn("size-4", value === o.value ? "opacity-100" : "opacity-0")} aria-hidden />
                <span className={cn("truncate", o.muted && "text-muted-foreground")}>{o.label}</span>
                {o.hint && <span className="ml-auto truncate text-xs text-muted-foreground">{o.hint}</span>}
              </CommandItem>
            ))}
          </CommandList>
          {footer}
        </Command>
      </PopoverContent>
    </Popover>
  );
}
