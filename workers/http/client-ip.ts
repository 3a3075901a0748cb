import type { AppContext } from "./context";

/**
 * The client's address, from `cf-connecting-ip` only: Cloudflare's edge sets
 * it on every request and overwrites any value a client sends. Headers such as
 * `x-real-ip`, `x-forwarded-for` or `true-client-ip` are chosen by the client
 * and never identify it.
 */
export function clientIp(c: AppContext): string | null {
  const ip = c.req.header("cf-connecting-ip")?.trim();
  return ip ? ip : null;
}

/**
 * The subject a per-client limit keys on. A request without
 * `cf-connecting-ip` did not come through Cloudflare's edge (a service
 * binding, a local run): all such requests share this one bucket, so no
 * header a client can choose buys a fresh budget.
 */
const NO_CLIENT_IP = "no-client-ip";

export function clientSubject(c: AppContext): string {
  return clientIp(c) ?? NO_CLIENT_IP;
}
