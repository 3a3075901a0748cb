import { type FetchLike, globalFetch } from "../quotes/quote";
import { type ClassifyOptions, classifyException, errorFromResponse } from "./errors";

const DEFAULT_BROKER_TIMEOUT_MS = 8_000;

export interface BrokerRequestOptions extends ClassifyOptions {
  timeoutMs?: number;
  fetch?: FetchLike;
}

/**
 * fetch with `AbortSignal.timeout`. Any HTTP answer is returned as is; a thrown
 * fetch (timeout, dropped connection) becomes a TransientError for idempotent
 * calls and an UnknownOutcomeError for the others, since the request may have
 * reached the broker.
 */
export async function fetchWithTimeout(
  url: string,
  init: RequestInit,
  options: BrokerRequestOptions,
): Promise<Response> {
  const fetch = options.fetch ?? globalFetch;
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_BROKER_TIMEOUT_MS) });
  } catch (error) {
    throw classifyException(error, options);
  }
}

export type JsonResult = { status: number; body: unknown };

/**
 * One broker call: 2xx gives the parsed JSON body (null when empty), any other
 * status throws the classified BrokerError. `allow` lists statuses the caller
 * handles itself (e.g. 404 for "no such client order id"). A body cut off by
 * the timeout counts like a lost response.
 */
export async function requestJson(
  url: string,
  init: RequestInit,
  options: BrokerRequestOptions & { allow?: readonly number[] },
): Promise<JsonResult> {
  const response = await fetchWithTimeout(url, init, options);
  const allowed = options.allow?.includes(response.status) ?? false;
  if (!response.ok && !allowed) throw await errorFromResponse(response, options);
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw classifyException(error, options);
  }
  if (text.trim() === "") return { status: response.status, body: null };
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch (error) {
    if (allowed) return { status: response.status, body: text };
    throw classifyException(new SyntaxError(`unparseable answer: ${(error as Error).message}`), options);
  }
}
