import { matchedRoutes } from "hono/route";
import type { AppContext } from "./context";

/** The path pattern of the handler that serves this request, or null when only middleware matched. */
export function handlerRoute(c: AppContext): string | null {
  const routes = matchedRoutes(c).filter((route) => route.method !== "ALL");
  return routes.at(-1)?.path ?? null;
}
