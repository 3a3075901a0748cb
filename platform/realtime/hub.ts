/** The one way to reach a community's RealtimeHub: one object per community, named after it. */
export function realtimeHubFor(env: Pick<Env, "REALTIME_HUB">, communityId: string) {
  return env.REALTIME_HUB.getByName(communityId);
}

export type RealtimeHubStub = ReturnType<typeof realtimeHubFor>;
