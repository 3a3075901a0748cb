import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Discord over plain HTTP on 127.0.0.1, for a `wrangler dev` driven from outside (the browser check): the OAuth2
 * authorize page (it approves at once and redirects back with a code, as Discord does once the user clicks
 * Authorize), the token exchange with PKCE checked as Discord checks it, `/users/@me` and `/users/@me/guilds` for
 * one account, and a quiet answer to what the Worker sends members (DM channels, messages, interaction follow-ups).
 * Shapes from Discord's OAuth2 and user resource documentation.
 */

export interface FakeDiscordAccount {
  discordId: string;
  username: string;
  guilds: { id: string; name: string }[];
}

export interface FakeDiscordHttp {
  /** For DISCORD_API_BASE. */
  apiBase: string;
  /** For DISCORD_OAUTH_AUTHORIZE_URL. */
  authorizeUrl: string;
  /** Every request the Worker made, as `METHOD /path`. */
  requests: string[];
  /** The application's OAuth2 client (the Worker's DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET): until set, none. */
  registerClient(clientId: string, clientSecret: string): void;
  close(): Promise<void>;
}

const base64url = (bytes: Buffer) => bytes.toString("base64url");

export async function startFakeDiscordHttp(options: { account: FakeDiscordAccount }): Promise<FakeDiscordHttp> {
  const client = { id: "", secret: "" };
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const tokens = new Set<string>();
  const requests: string[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake-discord");
    const body = await readBody(req);
    requests.push(`${req.method} ${url.pathname}`);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };

    if (req.method === "GET" && url.pathname === "/oauth2/authorize") {
      const q = url.searchParams;
      const redirectUri = q.get("redirect_uri") ?? "";
      const valid =
        client.id !== "" &&
        q.get("client_id") === client.id &&
        q.get("response_type") === "code" &&
        q.get("code_challenge_method") === "S256" &&
        (q.get("scope") ?? "").split(" ").includes("guilds") &&
        redirectUri !== "";
      if (!valid) return json(400, { error: "invalid_request" });
      const code = base64url(randomBytes(16));
      codes.set(code, { challenge: q.get("code_challenge") ?? "", redirectUri });
      const back = new URL(redirectUri);
      back.searchParams.set("code", code);
      back.searchParams.set("state", q.get("state") ?? "");
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (req.method === "POST" && url.pathname === "/api/v10/oauth2/token") {
      const form = new URLSearchParams(body);
      const basic = Buffer.from(`${client.id}:${client.secret}`).toString("base64");
      const grant = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      const verifier = form.get("code_verifier") ?? "";
      if (
        req.headers.authorization !== `Basic ${basic}` ||
        !grant ||
        grant.redirectUri !== form.get("redirect_uri") ||
        base64url(createHash("sha256").update(verifier).digest()) !== grant.challenge
      ) {
        return json(400, { error: "invalid_grant" });
      }
      const token = base64url(randomBytes(24));
      tokens.add(token);
      return json(200, {
        access_token: token,
        token_type: "Bearer",
        expires_in: 604800,
        refresh_token: base64url(randomBytes(24)),
        scope: "identify guilds",
      });
    }
    if (req.method === "POST" && url.pathname === "/api/v10/oauth2/token/revoke") {
      tokens.delete(new URLSearchParams(body).get("token") ?? "");
      return json(200, {});
    }
    if (req.method === "GET" && url.pathname.startsWith("/api/v10/users/@me")) {
      const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      if (!tokens.has(token)) return json(401, { message: "401: Unauthorized", code: 0 });
      if (url.pathname === "/api/v10/users/@me") {
        return json(200, { id: options.account.discordId, username: options.account.username, global_name: null });
      }
      if (url.pathname === "/api/v10/users/@me/guilds") return json(200, options.account.guilds);
    }
    if (req.method === "POST" && url.pathname === "/api/v10/users/@me/channels") {
      return json(200, { id: String(BigInt(options.account.discordId) + 1n), type: 1 });
    }
    // Messages, follow-ups and edits: accepted, as Discord answers them.
    return json(200, { id: String(Date.now()) });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    apiBase: `${origin}/api/v10`,
    authorizeUrl: `${origin}/oauth2/authorize`,
    requests,
    registerClient(clientId, clientSecret) {
      client.id = clientId;
      client.secret = clientSecret;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
