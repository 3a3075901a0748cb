// The lockfile must let `npm ci` work on every platform: it has to list all five
// workerd platform builds (the registry here lacks them for the newest releases).
import { readFileSync } from "node:fs";

const lock = JSON.parse(readFileSync(new URL("../package-lock.json", import.meta.url), "utf8"));
const required = ["darwin-64", "darwin-arm64", "linux-64", "linux-arm64", "windows-64"].map(
  (platform) => `node_modules/@cloudflare/workerd-${platform}`,
);
const problems = [];
for (const key of required) {
  const entry = lock.packages?.[key];
  if (!entry?.version) problems.push(`${key} is missing`);
}
const versions = new Set(required.map((key) => lock.packages?.[key]?.version).filter(Boolean));
if (versions.size > 1) problems.push(`workerd platform builds disagree on version: ${[...versions].join(", ")}`);

// Any package's optional platform builds (biome, esbuild, rolldown, …) must be locked too, or `npm ci` fails
// with "Missing: … from lock file" wherever npm could not resolve them when the lockfile was written.
for (const [key, entry] of Object.entries(lock.packages ?? {})) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    const nested = `${key ? `${key}/` : ""}node_modules/${name}`;
    if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`])
      problems.push(`${name} (optional dependency of ${key || "the root"}) is not locked`);
  }
}

if (problems.length > 0) {
  console.error(`package-lock.json is not portable:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`package-lock.json lists all ${required.length} workerd platform builds (${[...versions][0]})`);
