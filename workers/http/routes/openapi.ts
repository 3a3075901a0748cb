import type { App } from "../context";
import { OPS_TOKEN_SCHEME } from "../middleware/ops-auth";

export function registerOpenApi(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", OPS_TOKEN_SCHEME, {
    type: "http",
    scheme: "bearer",
    description: "Operator endpoints: Authorization: Bearer <OPS_TOKEN>",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "sessionCookie", {
    type: "apiKey",
    in: "cookie",
    name: "__Host-session",
    description: "A browser session: the cookie set at sign-in",
  });
  app.doc31("/api/v1/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Discord Trade Executor API",
      version: "1.0.0",
      description: "JSON API of the Discord Trade Executor. Errors share one body: {error:{code,message,requestId}}.",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
}
