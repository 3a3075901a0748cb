/** A refusal from the hub, as `{"error":{code,message}}`: the Worker turns it into the app's error answer. */
export function hubError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

/** `?since=` on connect: null when absent, "invalid" unless a non-negative integer. */
export function parseSince(raw: string | null): number | null | "invalid" {
  if (raw === null) return null;
  if (!/^\d{1,15}$/.test(raw)) return "invalid";
  return Number(raw);
}
