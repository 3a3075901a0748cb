import type { FetchLike } from "./quote";

const QUOTE_TIMEOUT_MS = 2_000;

export type JsonAnswer = { status: number; body: unknown };

/**
 * GET with a timeout. Any answer comes back with its status and parsed body
 * (null when the body is not JSON); a network failure or timeout is null, since
 * a quote source reports "unavailable" rather than failing.
 */
export async function getJson(
  fetch: FetchLike,
  url: string,
  headers: Record<string, string>,
  timeoutMs = QUOTE_TIMEOUT_MS,
): Promise<JsonAnswer | null> {
  try {
    const response = await fetch(url, {
      method: "GET",
      headers: { accept: "application/json", ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.status, body };
  } catch {
    return null;
  }
}
