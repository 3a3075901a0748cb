import { join } from "node:path";
import { parseDemoArgs } from "./lib/demo-args.ts";
import { type DemoOrder, readDevKeys, readDevVar, sendDemoSignal, waitForOrders } from "./lib/demo-signal.ts";

/**
 * `npm run demo:signal -- ["BUY 10 AAPL MKT"] [--port 8787]`:
 * with `npm start` running, posts a signed /signal from the demo provider and
 * prints the orders it turns into on the demo traders' paper accounts.
 */

const ROOT = join(import.meta.dirname, "..");
const parsed = parseDemoArgs(process.argv.slice(2), process.env.PORT);
if (!parsed.ok) {
  console.error(`[demo:signal] ${parsed.message}`);
  process.exit(2);
}
const { text, port } = parsed.args;
const baseUrl = `http://localhost:${port}`;
const devVars = join(ROOT, ".dev.vars");

function table(orders: DemoOrder[]): string {
  return orders
    .map(
      (o) =>
        `  ${o.userId.padEnd(14)} ${o.leg.padEnd(6)} ${o.side.padEnd(12)} ${String(o.quantity).padStart(6)} ${o.symbol.padEnd(9)} ${o.status.padEnd(16)}${o.averageFillPrice ? ` @ ${o.averageFillPrice}` : ""}${o.statusReason ? ` (${o.statusReason})` : ""}`,
    )
    .join("\n");
}

async function main() {
  const opsToken = readDevVar(devVars, "OPS_TOKEN");
  const applicationId = readDevVar(devVars, "DISCORD_APPLICATION_ID");
  if (!opsToken || !applicationId)
    throw new Error("Run `npm start` first: .dev.vars has no OPS_TOKEN or DISCORD_APPLICATION_ID.");
  const before = new Set((await waitForOrders(baseUrl, opsToken, () => true)).map((o) => o.id));
  const { privateKeyJwk } = readDevKeys(join(ROOT, ".dev.keys.json")).discord;
  const sent = await sendDemoSignal({ baseUrl, text, privateKeyJwk, applicationId });
  console.log(`POST /interactions /signal text:"${text}" → ${sent.status} ${JSON.stringify(sent.body)}`);
  const settled = (orders: DemoOrder[]) => {
    const fresh = orders.filter((o) => !before.has(o.id));
    return fresh.length > 0 && fresh.every((o) => o.status !== "queued");
  };
  const orders = (await waitForOrders(baseUrl, opsToken, settled)).filter((o) => !before.has(o.id));
  if (orders.length === 0) {
    console.log(
      "No orders: the signal was refused or is still running (see the wrangler dev log for signal.* events).",
    );
    return;
  }
  console.log(`Orders from this signal (paper accounts):\n${table(orders.reverse())}`);
}

main().catch((error: unknown) => {
  console.error(`[demo:signal] ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
