import { describe, expect, it } from "vitest";

/** The `[[queues.consumers]]` blocks of wrangler.toml, as `{queue: {max_retries, dead_letter_queue}}`. */
function queueConsumers(): Record<string, Record<string, string>> {
  const files = import.meta.glob<string>("../../wrangler.toml", { query: "?raw", import: "default", eager: true });
  const toml = Object.values(files)[0] ?? "";
  const consumers: Record<string, Record<string, string>> = {};
  for (const block of toml.split("[[queues.consumers]]").slice(1)) {
    const settings: Record<string, string> = {};
    for (const [, key, value] of block.split(/\n\[/)[0]?.matchAll(/^(\w+)\s*=\s*"?([^"\n]+)"?$/gm) ?? []) {
      if (key && value) settings[key] = value;
    }
    if (settings.queue) consumers[settings.queue] = settings;
  }
  return consumers;
}

describe("queue retry budgets", () => {
  it("Scenario: Each queue's retry budget is the one the spec states", () => {
    const consumers = queueConsumers();
    const budgets = Object.fromEntries(Object.entries(consumers).map(([queue, s]) => [queue, Number(s.max_retries)]));
    expect(budgets).toEqual({
      "order-submissions": 10,
      notifications: 8,
      "billing-events": 10,
      "order-submissions-dlq": 5,
      "notifications-dlq": 5,
      "billing-events-dlq": 5,
    });
    for (const queue of ["order-submissions", "notifications", "billing-events"]) {
      expect(consumers[queue]?.dead_letter_queue).toBe(`${queue}-dlq`);
    }
  });
});
