/** Where an object keeps the community it was first bound to. */
export interface CommunityBinding {
  getMeta(key: string): string | null;
  setMeta(key: string, value: string): void;
}

/**
 * Which community a per-community object (the executor, the realtime hub)
 * belongs to. Each object is named after its community (`executorFor` /
 * `realtimeHubFor` in platform/objects.ts), and `ctx.id.name` says so; the id is also bound
 * in the object's storage on first use, for ids created without a name. Every
 * RPC names a community, and a call that names another one is refused before
 * it reads or writes anything: the caller's word is never enough.
 */
export function assertOwnCommunity(
  id: Pick<DurableObjectId, "name">,
  local: CommunityBinding,
  communityId: string,
): void {
  const named = id.name;
  const bound = local.getMeta("communityId");
  if (named !== undefined && bound !== null && named !== bound) {
    throw new Error(`This object is named ${named} but bound to community ${bound}.`);
  }
  const own = named ?? bound;
  if (own !== null && own !== communityId) {
    throw new Error(`This object belongs to community ${own}, not ${communityId}.`);
  }
  if (bound === null) local.setMeta("communityId", communityId);
}
