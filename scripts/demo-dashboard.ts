import { join } from "node:path";
import { parseDemoArgs } from "./lib/demo-args.ts";
import { readDevKeys, readDevVar, requestDashboardLink } from "./lib/demo-signal.ts";
import { DEMO_USERS } from "./lib/seed-data.ts";

/**
 * `npm run demo:dashboard -- [demo_trader_1] [--port 8787]`: with `npm start` running, runs a signed `/dashboard` in
 * the demo community as that demo member (any of the seeded ones) and prints the single-use sign-in link it answers
 * with, so the web dashboard opens in a browser without a Discord application.
 */

const ROOT = join(import.meta.dirname, "..");
const USAGE = `Usage: npm run demo:dashboard -- [${DEMO_USERS.map((user) => user.username).join("|")}] [--port 8787]`;
const parsed = parseDemoArgs(process.argv.slice(2), process.env.PORT, { defaultText: "demo_trader_1", usage: USAGE });
if (!parsed.ok) {
  console.error(`[demo:dashboard] ${parsed.message}`);
  process.exit(2);
}
const { text: username, port } = parsed.args;
const user = DEMO_USERS.find((candidate) => candidate.username === username);
if (!user) {
  console.error(`[demo:dashboard] "${username}" is not a demo member. ${USAGE}`);
  process.exit(2);
}

async function main(member: NonNullable<typeof user>) {
  const devVars = join(ROOT, ".dev.vars");
  const applicationId = readDevVar(devVars, "DISCORD_APPLICATION_ID");
  if (!applicationId) throw new Error("Run `npm start` first: .dev.vars has no DISCORD_APPLICATION_ID.");
  const { privateKeyJwk } = readDevKeys(join(ROOT, ".dev.keys.json")).discord;
  const link = await requestDashboardLink({
    baseUrl: `http://localhost:${port}`,
    privateKeyJwk,
    applicationId,
    user: member,
  });
  if ("refused" in link) throw new Error(link.refused);
  console.log(
    `Signed in as @${member.username} (${member.role}) once you open this link within 5 minutes:\n  ${link.url}`,
  );
}

main(user).catch((error: unknown) => {
  console.error(`[demo:dashboard] ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
