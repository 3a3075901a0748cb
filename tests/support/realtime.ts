import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { database } from "../../platform/db/client";
import { communityDirectory } from "../../platform/db/cross-community/community-directory";
import { sessionStore } from "../../platform/db/sessions";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { userGuildStore } from "../../platform/db/user-guilds";
import { upsertUser } from "../../platform/db/users";
import { realtimeHubFor } from "../../platform/objects";
import { newSessionId, SESSION_COOKIE, SESSION_TTL_MS, signSessionToken } from "../../shared/auth/session-token";
import type { MembershipRole } from "../../shared/db/schema";
import { snowflake } from "./discord";
import { BASE } from "./http";
import { TEST_VARS } from "./test-vars";

const db = database(env.DB);

export interface TestMember {
  communityId: string;
  userId: string;
  sessionId: string;
  /** The `cookie` request header carrying the member's session. */
  cookie: string;
}

export async function newCommunityId(): Promise<string> {
  const { community } = await communityDirectory(db).create({ guildId: snowflake(), name: "Realtime community" });
  return community.id;
}

/** A user with a live session, as sign-in would leave them (row in `sessions`, signed cookie). */
export async function signedInUser(options: { expiresAt?: number } = {}) {
  const user = await upsertUser(db, { discordId: snowflake(), username: "member" });
  return { userId: user.id, ...(await sessionFor(user.id, options)) };
}

/**
 * A live session for a user, as sign-in would leave it. `inGuildOf`: the community whose Discord guild the sign-in's
 * `guilds` scope listed (a session reaches only such communities).
 */
export async function sessionFor(userId: string, options: { expiresAt?: number; inGuildOf?: string } = {}) {
  if (options.inGuildOf) await addGuildOf(userId, options.inGuildOf);
  const sessionId = newSessionId();
  const expiresAt = options.expiresAt ?? Date.now() + SESSION_TTL_MS;
  await sessionStore(db).create({ id: sessionId, userId, expiresAt });
  const token = await signSessionToken(TEST_VARS.SESSION_SECRET, { userId, sessionId, expiresAt });
  return { sessionId, token, cookie: `${SESSION_COOKIE}=${token}` };
}

/**
 * A member of `communityId` (a new community when omitted) with a signed-in session, in its guild as the sign-in's
 * `guilds` scope would have said.
 */
export async function memberOf(communityId: string | null, role: MembershipRole = "trader"): Promise<TestMember> {
  const id = communityId ?? (await newCommunityId());
  const user = await signedInUser();
  await forCommunity(db, id).memberships.upsert(user.userId, role);
  await addGuildOf(user.userId, id);
  return { communityId: id, userId: user.userId, sessionId: user.sessionId, cookie: user.cookie };
}

async function addGuildOf(userId: string, communityId: string): Promise<void> {
  const community = await forCommunity(db, communityId).community.get();
  if (!community) throw new Error(`No community ${communityId}.`);
  await userGuildStore(db).add(userId, community.guildId);
}

export function realtimePath(communityId: string, query?: string): string {
  return `/api/v1/communities/${communityId}/realtime${query ? `?${query}` : ""}`;
}

/** Asks for the upgrade exactly as a browser would (cookie, Upgrade header); `query` is the raw query string. */
export function requestUpgrade(
  communityId: string,
  cookie: string | null,
  options: { since?: number; query?: string; headers?: Record<string, string> } = {},
) {
  const query = options.query ?? (options.since === undefined ? undefined : `since=${options.since}`);
  return exports.default.fetch(
    new Request(`${BASE}${realtimePath(communityId, query)}`, {
      headers: { upgrade: "websocket", ...(cookie ? { cookie } : {}), ...options.headers },
    }),
  );
}

export type Frame = Record<string, unknown> & { type: string };

/** The browser's end of a realtime socket, collecting frames (each event of a `batch` in turn) and the close. */
export class TestSocket {
  readonly frames: Frame[] = [];
  /** How many `batch` frames arrived, and how many events each carried. */
  readonly batches: number[] = [];
  closed: { code: number; reason: string } | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      const frame = parseFrame(event.data);
      if (frame.type === "batch" && Array.isArray(frame.events)) {
        this.batches.push(frame.events.length);
        this.frames.push(...(frame.events as Frame[]));
      } else {
        this.frames.push(frame);
      }
      this.wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.wake();
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Events (frames with a stream; control frames have none) received so far. */
  events(): Frame[] {
    return this.frames.filter((frame) => typeof frame.stream === "string");
  }

  /** Waits until `predicate` holds over what arrived, or fails after `timeoutMs`. */
  async until(predicate: (socket: TestSocket) => boolean, timeoutMs = 3_000, what = "condition"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 50));
        this.waiters.add(done);
      });
    }
  }

  async nextOfType(type: string, timeoutMs?: number): Promise<Frame> {
    const seen = this.frames.length;
    await this.until((s) => s.frames.slice(seen).some((f) => f.type === type), timeoutMs, `a ${type} frame`);
    return this.frames.slice(seen).find((f) => f.type === type) as Frame;
  }

  async closedWith(timeoutMs?: number): Promise<{ code: number; reason: string }> {
    await this.until((s) => s.closed !== null, timeoutMs, "the close");
    return this.closed as { code: number; reason: string };
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** A JSON frame as is; anything else (the `pong` answer) as `{type: "text", text}`. */
function parseFrame(data: unknown): Frame {
  if (typeof data !== "string") return { type: "binary" };
  try {
    return JSON.parse(data) as Frame;
  } catch {
    return { type: "text", text: data };
  }
}

/** Connects a member and waits for the welcome frame. */
export async function connect(member: Pick<TestMember, "communityId" | "cookie">, options: { since?: number } = {}) {
  const res = await requestUpgrade(member.communityId, member.cookie, options);
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error("101 without a webSocket");
  const socket = new TestSocket(ws);
  const welcome = await socket.nextOfType("welcome");
  return { socket, welcome };
}

export function hubOf(communityId: string) {
  return realtimeHubFor(env, communityId);
}
