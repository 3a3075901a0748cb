import { type GatewayBot, GatewayBotSchema } from "../../shared/gateway/protocol";
import { parseRetryAfterMs } from "../../shared/orders/backoff";

export type GatewayBotResult =
  | { ok: true; info: GatewayBot }
  | { ok: false; status: number | null; error: string; retryAfterMs: number | null };

/** Discord's "Get Gateway Bot": the URL to connect to, the recommended shards and the session start limit. */
export async function fetchGatewayBot(apiBase: string, token: string, userAgent: string): Promise<GatewayBotResult> {
  let response: Response;
  try {
    response = await fetch(`${apiBase.replace(/\/+$/, "")}/gateway/bot`, {
      headers: { authorization: `Bot ${token}`, "user-agent": userAgent },
    });
  } catch (error) {
    return {
      ok: false,
      status: null,
      error: error instanceof Error ? error.message : String(error),
      retryAfterMs: null,
    };
  }
  const text = await response.text();
  if (!response.ok) {
    const retryAfterMs = parseRetryAfterMs(response.headers.get("retry-after"), Date.now());
    return { ok: false, status: response.status, error: `HTTP ${response.status}`, retryAfterMs };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, status: response.status, error: "the answer is not JSON", retryAfterMs: null };
  }
  const parsed = GatewayBotSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, status: response.status, error: "the answer is not a Gateway Bot object", retryAfterMs: null };
  }
  return { ok: true, info: parsed.data };
}

/**
 * Opens the outbound WebSocket with a fetch upgrade (`wss:` is fetched as
 * `https:`), the form workerd supports from a Durable Object. The caller
 * attaches its listeners, then calls `accept()`. The socket is not
 * hibernatable: the object stays in memory while it is open.
 */
export async function openGatewaySocket(url: string): Promise<WebSocket> {
  const response = await fetch(url.replace(/^ws(s?):/i, "http$1:"), { headers: { upgrade: "websocket" } });
  const socket = response.webSocket;
  if (!socket) {
    await response.body?.cancel();
    throw new Error(`the WebSocket upgrade was refused (HTTP ${response.status})`);
  }
  return socket;
}
