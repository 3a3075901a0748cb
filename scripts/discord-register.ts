import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { registrationPayload } from "../workers/discord/registration.ts";
import { parseDevVars } from "./lib/dev-vars.ts";

/**
 * `npm run discord:register -- [--guild ID] [--dry-run]`: registers every
 * command from the one definition module with a bulk overwrite
 * (PUT /applications/{app}/commands, or the guild route, which updates at once
 * and suits development). --dry-run prints the JSON and sends nothing.
 * DISCORD_BOT_TOKEN and DISCORD_APPLICATION_ID come from the environment or
 * .dev.vars; DISCORD_API_BASE too (default https://discord.com/api/v10).
 */

const USAGE = "usage: npm run discord:register -- [--guild <guild id>] [--dry-run]";
const SNOWFLAKE = /^\d{17,20}$/;

function settings(): Record<string, string | undefined> {
  const file = path.resolve(import.meta.dirname, "..", ".dev.vars");
  const fromFile = existsSync(file) ? parseDevVars(readFileSync(file, "utf8")) : {};
  const pick = (name: string) => process.env[name]?.trim() || fromFile[name]?.trim() || undefined;
  return {
    DISCORD_BOT_TOKEN: pick("DISCORD_BOT_TOKEN"),
    DISCORD_APPLICATION_ID: pick("DISCORD_APPLICATION_ID"),
    DISCORD_API_BASE: pick("DISCORD_API_BASE") ?? "https://discord.com/api/v10",
  };
}

function fail(message: string): never {
  console.error(`discord:register: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let args: { guild?: string; "dry-run"?: boolean; help?: boolean };
  try {
    ({ values: args } = parseArgs({
      options: { guild: { type: "string" }, "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (error) {
    fail(`${error instanceof Error ? error.message : error}\n${USAGE}`);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (args.guild !== undefined && !SNOWFLAKE.test(args.guild))
    fail(`--guild must be a guild id (17–20 digits).\n${USAGE}`);

  const payload = registrationPayload();
  if (args["dry-run"]) {
    console.log(JSON.stringify(payload, null, 2));
    return;
  }

  const { DISCORD_BOT_TOKEN: token, DISCORD_APPLICATION_ID: applicationId, DISCORD_API_BASE: base } = settings();
  const missing = [!token && "DISCORD_BOT_TOKEN", !applicationId && "DISCORD_APPLICATION_ID"].filter(Boolean);
  if (missing.length > 0) {
    fail(
      `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set (environment or .dev.vars). Use --dry-run to print the payload without them.`,
    );
  }
  if (!SNOWFLAKE.test(applicationId ?? "")) fail("DISCORD_APPLICATION_ID must be a snowflake (17–20 digits).");

  const route = args.guild
    ? `/applications/${applicationId}/guilds/${args.guild}/commands`
    : `/applications/${applicationId}/commands`;
  const url = `${(base ?? "").replace(/\/+$/, "")}${route}`;
  const response = await fetch(url, {
    method: "PUT",
    headers: {
      authorization: `Bot ${token}`,
      "content-type": "application/json",
      "user-agent": "DiscordBot (https://github.com/discord-trade-executor, 0.1.0)",
    },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  if (!response.ok) fail(`PUT ${route} answered ${response.status}: ${text.slice(0, 2000)}`);
  const registered = JSON.parse(text) as { name: string; id: string }[];
  console.log(
    `Registered ${registered.length} commands ${args.guild ? `in guild ${args.guild}` : "globally"}: ${registered.map((c) => c.name).join(", ")}`,
  );
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
