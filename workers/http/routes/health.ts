import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../context";

const route = createRoute({
  method: "get",
  path: "/health",
  tags: ["platform"],
  summary: "Liveness: answers without calling any dependency",
  responses: {
    200: {
      description: "The Worker is running",
      content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
    },
  },
});

export function registerHealth(app: App): void {
  app.openapi(route, (c) => c.json({ status: "ok" as const }, 200));
}
