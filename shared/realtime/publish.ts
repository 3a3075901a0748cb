import { z } from "zod";
import { channelCarries } from "./access";
import { AudienceSchema, CHANNEL_OF_EVENT, EVENT_TYPES, REALTIME_CHANNELS } from "./protocol";

/**
 * What a publisher hands the hub (`RealtimeHub.publish` / `publishBatch`): an
 * event for one community, its audience, and optionally the channel (by
 * default the event type's own). A channel that cannot carry the audience (a
 * member's orders broadcast to the community) is refused, not narrowed.
 */
export const PublishInputSchema = z
  .object({
    communityId: z.string().min(1).max(128),
    type: z.enum(EVENT_TYPES),
    channel: z.enum(REALTIME_CHANNELS).optional(),
    audience: AudienceSchema,
    data: z.record(z.string(), z.unknown()),
    /** When the publisher saw the change (epoch ms): the start of publish-to-send latency. */
    at: z.number().int().nonnegative(),
  })
  .transform((input) => ({ ...input, channel: input.channel ?? CHANNEL_OF_EVENT[input.type] }))
  .refine((input) => channelCarries(input.channel, input.audience), {
    message: "This channel cannot carry an event for that audience (orders and portfolio are personal).",
    path: ["audience"],
  });

export type PublishInput = z.input<typeof PublishInputSchema>;
export type ValidPublish = z.output<typeof PublishInputSchema>;

/** At most this many events per publishBatch call (a fan-out publishes in chunks). */
export const MAX_PUBLISH_BATCH = 500;

export const PublishBatchSchema = z.array(PublishInputSchema).min(1).max(MAX_PUBLISH_BATCH);
