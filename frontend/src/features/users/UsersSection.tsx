import { useState } from "react";
import { KeyRound, Loader2, Trash2, UserPlus } from "lucide-react";
import { Section } from "@/components/Section";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { ChangeError, fieldError } from "@/components/FieldErrors";
import { ErrorState, LoadingState } from "@/components/QueryState";
import { useSession } from "@/features/auth/useSession";
import type { Role } from "@/api/session";
import { formatDateTime } from "@/lib/format";
import { useChangeUser, useCreateUser, useRemoveUser, useResetPassword, useUsers, type UserView } from "./api";

/** A temporary password, shown this once: the admin hands it over; the user replaces it at the first login. */
function TemporaryPassword({ username, password, onDone }: { username: string; password: string; onDone: () => void }) {
  return (
    <div role="status" className="flex flex-wrap items-center gap-3 rounded-lg border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm" data-testid="temporary-password">
      <span>
        Temporary password for <strong>{username}</strong>, shown this once:
      </span>
      <code className="rounded bg-white px-2 py-1 font-mono select-all">{password}</code>
      <span className="text-muted-foreground">They choose their own at the first login.</span>
      <Button size="sm" variant="ghost" onClick={onDone}>
        Done
      </Button>
    </div>
  );
}

function NewUserForm({ onCreated }: { onCreated: (username: string, password: string) => void }) {
  const create = useCreateUser();
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  return (
    <form
      aria-label="New user"
      className="flex flex-wrap items-end gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate(
          { username: username.trim(), role },
          {
            onSuccess: (answer) => {
              setUsername("");
              onCreated(answer.user.username, answer.temporary_password);
            },
          },
        );
      }}
    >
      <div className="space-y-1.5">
        <Label htmlFor="new-user-name">User name</Label>
        <Input id="new-user-name" className="w-56" value={username} onChange={(e) => setUsername(e.target.value)} placeholder="e.g. jane@example.com" />
      </div>
      <div className="space-y-1.5">
        <Label htmlFor="new-user-role">Role</Label>
        <NativeSelect id="new-user-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <option value="viewer">Viewer (read only)</option>
          <option value="admin">Admin</option>
        </NativeSelect>
      </div>
      <Button type="submit" disabled={create.isPending || username.trim() === ""}>
        {create.isPending ? <Loader2 className="animate-spin" aria-hidden /> : <UserPlus aria-hidden />} Create user
      </Button>
      {fieldError(create.error, "username") && <p className="w-full text-xs text-red-700">{fieldError(create.error, "username")}</p>}
      {create.error && !fieldError(create.error, "username") && (
        <div className="w-full">
          <ChangeError error={create.error} />
        </div>
      )}
    </form>
  );
}

function UserRow({ user, self, onReset }: { user: UserView; self: boolean; onReset: (username: string, password: string) => void }) {
  const change = useChangeUser();
  const reset = useResetPassword();
  const remove = useRemoveUser();
  const error = change.error ?? reset.error ?? remove.error;
  return (
    <TableRow data-testid="user-row">
      <TableCell className="font-medium">
        {user.username} {self && <span className="text-xs text-muted-foreground">(you)</span>}
      </TableCell>
      <TableCell>
        <NativeSelect
          aria-label={`Role of ${user.username}`}
          value={user.role}
          disabled={self || change.isPending}
          title={self ? "Another admin can change your role" : undefined}
          onChange={(e) => change.mutate({ username: user.username, change: { role: e.target.value as Role } })}
        >
          <option value="viewer">Viewer</option>
          <option value="admin">Admin</option>
        </NativeSelect>
      </TableCell>
      <TableCell>
        {user.disabled ? <Badge variant="outline">disabled</Badge> : user.must_change_password ? <Badge variant="warning">temporary password</Badge> : <Badge variant="secondary">active</Badge>}
      </TableCell>
      <TableCell className="tabular-nums">{user.last_login_at ? formatDateTime(user.last_login_at) : "never"}</TableCell>
      <TableCell className="text-right">
        <div className="flex justify-end gap-1.5">
          <Button size="sm" variant="outline" disabled={self || change.isPending} title={self ? "Another admin can disable you" : undefined} onClick={() => change.mutate({ username: user.username, change: { disabled: !user.disabled } })}>
            {user.disabled ? "Enable" : "Disable"}
          </Button>
          <Button size="sm" variant="outline" disabled={self || reset.isPending} title={self ? "Change your own password with your current one" : undefined} onClick={() => reset.mutate(user.username, { onSuccess: (a) => onReset(a.user.username, a.temporary_password) })}>
            <KeyRound aria-hidden /> Reset password
          </Button>
          <Button size="sm" variant="outline" disabled={self || remove.isPending} aria-label={`Remove ${user.username}`} title={self ? "Another admin can remove you" : "Remove"} onClick={() => window.confirm(`Remove ${user.username}?`) && remove.mutate(user.username)}>
            <Trash2 aria-hidden />
          </Button>
        </div>
        {error && (
          <div className="mt-2 text-left">
            <ChangeError error={error} />
          </div>
        )}
      </TableCell>
    </TableRow>
  );
}

/** Admins manage the console's users; viewers do not see this section. */
export function UsersSection() {
  const session = useSession();
  const isAdmin = session?.role === "admin";
  const users = useUsers(isAdmin);
  const [shown, setShown] = useState<{ username: string; password: string } | null>(null);
  if (!isAdmin) return null;
  return (
    <Section id="users" title="Users" description="Who may sign in to this console. Admins change things; viewers read.">
      <NewUserForm onCreated={(username, password) => setShown({ username, password })} />
      {shown && <TemporaryPassword username={shown.username} password={shown.password} onDone={() => setShown(null)} />}
      {users.isPending ? (
        <LoadingState />
      ) : users.error ? (
        <ErrorState error={users.error} what="The users" retry={() => users.refetch()} />
      ) : (
        <div className="rounded-lg border">
          <Table aria-label="Users">
            <TableHeader>
              <TableRow>
                <TableHead>User</TableHead>
                <TableHead>Role</TableHead>
                <TableHead>State</TableHead>
                <TableHead>Last login</TableHead>
                <TableHead className="text-right">Actions</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {users.data.map((u) => (
                <UserRow key={u.username} user={u} self={u.username === session?.username} onReset={(username, password) => setShown({ username, password })} />
              ))}
            </TableBody>
          </Table>
        </div>
      )}
    </Section>
  );
}
