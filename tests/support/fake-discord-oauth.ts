import { exports } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { snowflake } from "./discord";
import { BASE } from "./http";
import { TEST_VARS } from "./test-vars";

/**
 * Discord's OAuth2 side, faked at the fetch boundary as its OAuth2 docs describe it: the authorization page (a
 * test "approves" the URL the Worker redirected to and gets the callback URL back, or a denial), `POST
 * /oauth2/token` (HTTP Basic client authentication, the authorization code bound to its redirect URI and PKCE
 * challenge, single use; `{"error":"invalid_grant"}` otherwise), `POST /oauth2/token/revoke`, `GET /users/@me` and
 * `GET /users/@me/guilds` with the Bearer token. It sits on top of the bot API fake (`fakeDiscordApi`), which keeps
 * answering DMs: install that first.
 */

const API = "https://discord.com/api/v10";
const AUTHORIZE = "https://discord.com/oauth2/authorize";

export interface DiscordAccount {
  user: { id: string; username: string; global_name?: string | null };
  guilds: { id: string; name: string }[];
}

interface Grant {
  account: DiscordAccount;
  challenge: string;
  redirectUri: string;
  used: boolean;
}

export interface OAuthCall {
  method: string;
  path: string;
  authorization: string | null;
  form: Record<string, string>;
}

export function fakeDiscordOAuth() {
  const spy = vi.mocked(globalThis.fetch);
  const inner = spy.getMockImplementation();
  if (!inner) throw new Error("Install fakeDiscordApi() before fakeDiscordOAuth().");
  const grants = new Map<string, Grant>();
  const tokens = new Map<string, DiscordAccount>();
  const calls: OAuthCall[] = [];
  const revoked: string[] = [];
  let tokenFailure: { status: number; body: unknown } | null = null;

  spy.mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    if (!request.url.startsWith(API)) return inner(input, init);
    const path = url.pathname.slice("/api/v10".length);
    const isOAuth = path.startsWith("/oauth2/") || path === "/users/@me" || path === "/users/@me/guilds";
    if (!isOAuth) return inner(input, init);
    const raw = request.method === "POST" ? new TextDecoder().decode(await request.arrayBuffer()) : "";
    const form: Record<string, string> = Object.fromEntries(new URLSearchParams(raw));
    const authorization = request.headers.get("authorization");
    calls.push({ method: request.method, path, authorization, form });

    if (path === "/oauth2/token" && request.method === "POST") {
      if (tokenFailure) return Response.json(tokenFailure.body, { status: tokenFailure.status });
      const basic = `Basic ${btoa(`${TEST_VARS.DISCORD_CLIENT_ID}:${TEST_VARS.DISCORD_CLIENT_SECRET}`)}`;
      if (authorization !== basic) return Response.json({ error: "invalid_client" }, { status: 401 });
      const grant = grants.get(form.code ?? "");
      const challenge = form.code_verifier ? await s256(form.code_verifier) : null;
      if (
        form.grant_type !== "authorization_code" ||
        !grant ||
        grant.used ||
        grant.redirectUri !== form.redirect_uri ||
        grant.challenge !== challenge
      ) {
        return Response.json(
          { error: "invalid_grant", error_description: 'Invalid "code" in request.' },
          { status: 400 },
        );
      }
      grant.used = true;
      const accessToken = crypto.randomUUID().replaceAll("-", "");
      tokens.set(accessToken, grant.account);
      return Response.json({
        access_token: accessToken,
        token_type: "Bearer",
        expires_in: 604800,
        refresh_token: crypto.randomUUID().replaceAll("-", ""),
        scope: "identify guilds",
      });
    }
    if (path === "/oauth2/token/revoke" && request.method === "POST") {
      revoked.push(form.token ?? "");
      tokens.delete(form.token ?? "");
      return Response.json({});
    }
    const account = tokens.get(authorization?.replace(/^Bearer /, "") ?? "");
    if (!account) return Response.json({ message: "401: Unauthorized", code: 0 }, { status: 401 });
    if (path === "/users/@me") {
      return Response.json({
        discriminator: "0",
        avatar: null,
        public_flags: 0,
        flags: 0,
        global_name: null,
        ...account.user,
      });
    }
    return Response.json(
      account.guilds.map((guild) => ({
        ...guild,
        icon: null,
        banner: null,
        owner: false,
        permissions: "104324673",
        features: [],
      })),
    );
  });

  return {
    calls,
    revoked,
    /** Makes the token endpoint answer this (a Discord outage, an `invalid_grant`) until cleared with null. */
    failTokens(failure: { status: number; body: unknown } | null) {
      tokenFailure = failure;
    },
    /**
     * The user approves the authorization request at `authorizeUrl` (where the Worker redirected): the callback URL
     * Discord sends the browser to, with a fresh code.
     */
    approve(authorizeUrl: string, account: DiscordAccount): string {
      const request = new URL(authorizeUrl);
      expect(`${request.origin}${request.pathname}`).toBe(AUTHORIZE);
      const query = Object.fromEntries(request.searchParams);
      expect(query).toMatchObject({
        response_type: "code",
        client_id: TEST_VARS.DISCORD_CLIENT_ID,
        scope: "identify guilds",
        code_challenge_method: "S256",
      });
      const code = crypto.randomUUID().replaceAll("-", "");
      grants.set(code, {
        account,
        challenge: query.code_challenge ?? "",
        redirectUri: query.redirect_uri ?? "",
        used: false,
      });
      const callback = new URL(query.redirect_uri ?? "");
      callback.searchParams.set("code", code);
      callback.searchParams.set("state", query.state ?? "");
      return callback.toString();
    },
    /** The user clicks "Cancel" on Discord's page: Discord sends `error=access_denied` with the state. */
    deny(authorizeUrl: string): string {
      const query = new URL(authorizeUrl).searchParams;
      const callback = new URL(query.get("redirect_uri") ?? "");
      callback.searchParams.set("error", "access_denied");
      callback.searchParams.set("error_description", "The resource owner or authorization server denied the request");
      callback.searchParams.set("state", query.get("state") ?? "");
      return callback.toString();
    },
  };
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export type FakeDiscordOAuth = ReturnType<typeof fakeDiscordOAuth>;

export function discordAccount(guildIds: string[] = [], username = "trader"): DiscordAccount {
  return {
    user: { id: snowflake(), username, global_name: username },
    guilds: guildIds.map((id, i) => ({ id, name: `Guild ${i + 1}` })),
  };
}

/** A browser: its cookie jar (name to value), address, user agent and country. */
export class TestBrowser {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly ip: string,
    readonly userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    public country = "DE",
  ) {}

  /** A request to the Worker as this browser sends it (cookies, address, user agent, country, Origin on a mutation). */
  async fetch(pathOrUrl: string, init: RequestInit & { origin?: string | null } = {}): Promise<Response> {
    const url = new URL(pathOrUrl, BASE);
    const headers = new Headers(init.headers);
    headers.set("cf-connecting-ip", this.ip);
    headers.set("user-agent", this.userAgent);
    headers.set("cf-ipcountry", this.country);
    if (this.cookies.size > 0) headers.set("cookie", this.cookieHeader());
    const method = (init.method ?? "GET").toUpperCase();
    if (method !== "GET" && init.origin !== null) headers.set("origin", init.origin ?? BASE);
    const res = await exports.default.fetch(
      new Request(`${BASE}${url.pathname}${url.search}`, { ...init, headers, redirect: "manual" }),
    );
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const [name = "", ...rest] = pair.split("=");
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), rest.join("="));
    }
    return res;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** The whole sign-in: login, Discord's approval of `account`, the callback. Returns the callback's answer. */
  async signIn(discord: FakeDiscordOAuth, account: DiscordAccount): Promise<Response> {
    const login = await this.fetch("/auth/discord/login");
    expect(login.status).toBe(302);
    return this.fetch(discord.approve(login.headers.get("location") ?? "", account));
  }

  /** A form post as the dashboard's own forms send it (`html`: asking for a page, as a browser does). */
  postForm(path: string, fields: Record<string, string>, options: { origin?: string | null; html?: boolean } = {}) {
    return this.fetch(path, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(options.html ? { accept: "text/html" } : {}),
      },
      body: new URLSearchParams(fields).toString(),
      origin: options.origin,
    });
  }
}

let addresses = 0;
/** Each test's browser gets its own address, so per-address limits do not leak between tests. */
export const freshIp = () => `203.0.113.${(++addresses % 250) + 1}`;
