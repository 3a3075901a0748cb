import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppConfig } from "../../shared/config";
import type { MembershipRole } from "../../shared/db/schema";
import type { Logger } from "../../shared/logging";
import type { AuthenticatedSession } from "../auth/session";
import type { CommunityPrincipal } from "./community-access";

export interface AppVariables {
  requestId: string;
  logger: Logger;
  /** Set by the config gate; every route behind it can rely on a valid config. */
  config: AppConfig;
  communityId?: string;
  /**
   * Set once OPS_TOKEN authentication passes: the fingerprint of the token used (never the token), and for a
   * mutation the id of its `operator_actions` row.
   */
  operator?: { fingerprint: string; actionId?: string };
  userId?: string;
  /** Set by `requireSession`: the request's verified browser session. */
  session?: AuthenticatedSession;
  /** Set by `communityAction` while the session is read: the token's user's listed membership, being looked up. */
  membershipLookup?: { userId: string; communityId: string; result: Promise<{ role: MembershipRole } | null> };
  /** Set by `communityAction`: who calls a community route (an operator, or a member in their role). */
  principal?: CommunityPrincipal;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}

export type AppContext = Context<AppEnv>;
export type App = OpenAPIHono<AppEnv>;
