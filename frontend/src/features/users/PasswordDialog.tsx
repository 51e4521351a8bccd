import { useState } from "react";
import { Loader2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { ChangeError, fieldError } from "@/components/FieldErrors";
import { useChangeOwnPassword } from "./api";

const MIN_LENGTH = 12;

/**
 * The caller sets their own password. `required`: the password is a temporary one an admin set,
 * so the dialog cannot be dismissed (the API refuses every change until then anyway).
 */
export function PasswordDialog({ open, onOpenChange, required }: { open: boolean; onOpenChange: (open: boolean) => void; required: boolean }) {
  const change = useChangeOwnPassword();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const problem = next.length > 0 && next.length < MIN_LENGTH ? `At least ${MIN_LENGTH} characters.` : again.length > 0 && again !== next ? "The two new passwords differ." : null;
  const close = (o: boolean) => {
    if (required && !o) return;
    onOpenChange(o);
  };
  return (
    <Dialog open={open} onOpenChange={close}>
      <DialogContent className="max-w-md" onEscapeKeyDown={(e) => required && e.preventDefault()} onPointerDownOutside={(e) => required && e.preventDefault()}>
        <DialogHeader>
          <DialogTitle>{required ? "Set your own password" : "Change your password"}</DialogTitle>
          <DialogDescription>{required ? "You signed in with a temporary password. Choose your own before you change anything." : "Your other sessions end when you save."}</DialogDescription>
        </DialogHeader>
        <form
          className="space-y-3"
          aria-label="Change password"
          onSubmit={(e) => {
            e.preventDefault();
            if (problem || !next || next !== again) return;
            change.mutate(
              { current_password: current, new_password: next },
              {
                onSuccess: () => {
                  setCurrent("");
                  setNext("");
                  setAgain("");
                  onOpenChange(false);
                },
              },
            );
          }}
        >
          <div className="space-y-1.5">
            <Label htmlFor="pw-current">{required ? "Temporary password" : "Current password"}</Label>
            <Input id="pw-current" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
            {fieldError(change.error, "current_password") && <p className="text-xs text-red-700">{fieldError(change.error, "current_password")}</p>}
          </div>
          <div className="space-y-1.5">
            <Label htmlFor="pw-new">New password</Label>
            <Input id="pw-new" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
            {fieldError(change.error, "new_password") && <p className="text-xs text-red-700">{fieldError(change.error, "new_password")}</p>}
          </div>
          <div className="space-y-1.5">
            <Label htmlFor="pw-again">New password again</Label>
            <Input id="pw-again" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
          </div>
          {problem && (
            <p role="alert" className="text-sm text-amber-800">
              {problem}
            </p>
          )}
          {change.error && !fieldError(change.error, "current_password") && !fieldError(change.error, "new_password") && <ChangeError error={change.error} />}
          <DialogFooter>
            {!required && (
              <Button type="button" variant="outline" onClick={() => onOpenChange(false)}>
                Cancel
              </Button>
            )}
            <Button type="submit" disabled={change.isPending || !current || !next || next !== again || problem !== null}>
              {change.isPending && <Loader2 className="animate-spin" aria-hidden />} Save password
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
