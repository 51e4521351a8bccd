// Fails when the built bundle (dist/) holds a secret: the value of any environment variable
// whose name says token, password, secret or key (as CI and the stack scripts set them), the
// simulators' demo token, or anything shaped like a JWT or an AWS access key. The console reads
// everything deployment-specific from config.json at run time, so nothing of the kind belongs here.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist");
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else files.push(full);
  }
};
walk(dist);

const secrets = Object.entries(process.env)
  .filter(([name, value]) => /TOKEN|PASSWORD|SECRET|_KEY/i.test(name) && value && value.length >= 8)
  .map(([name, value]) => ({ what: `the value of $${name}`, value }));
secrets.push({ what: "the simulators' demo token", value: "demo-admin-token" });
const shapes = [
  { what: "a JWT", pattern: /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./ },
  { what: "an AWS access key id", pattern: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/ },
];

const found = [];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  for (const s of secrets) if (text.includes(s.value)) found.push(`${path.relative(dist, file)}: ${s.what}`);
  for (const s of shapes) if (s.pattern.test(text)) found.push(`${path.relative(dist, file)}: ${s.what}`);
}
if (files.length === 0) {
  console.error("dist/ is empty: run the build first");
  process.exit(1);
}
if (found.length > 0) {
  for (const f of found) console.error(`secret in the bundle: ${f}`);
  process.exit(1);
}

// The first download: the entry chunk index.html loads. The sections, dialogs and the chart
// are chunks of their own (React.lazy); this fails when something pulls them back in.
const MAX_ENTRY_BYTES = 300 * 1000;
const html = readFileSync(path.join(dist, "index.html"), "utf8");
const entry = html.match(/<script[^>]+src="\/?(assets\/[^"]+\.js)"/)?.[1];
if (!entry) {
  console.error("index.html loads no script: the build changed shape");
  process.exit(1);
}
const entryText = readFileSync(path.join(dist, entry), "utf8");
const problems = [];
if (entryText.length > MAX_ENTRY_BYTES) problems.push(`the entry chunk ${entry} has ${entryText.length} bytes (at most ${MAX_ENTRY_BYTES})`);
if (entryText.includes("recharts-wrapper")) problems.push(`recharts is in the entry chunk ${entry}; it belongs to the chart's chunk`);
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`bundle checked: ${files.length} files, no secrets; entry chunk ${entry} ${entryText.length} bytes`);
