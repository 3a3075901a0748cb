import type { GatewayDispatchEvents } from "discord-api-types/v10";
import { z } from "zod";

/**
 * The guild events (GUILDS intent) from which the Gateway watcher keeps each
 * guild's owner and role permissions, so that a channel message, which
 * carries only its author's role ids, can still tell an admin (Manage Server
 * or Administrator) from a member. Discord sends GUILD_CREATE for every guild
 * after each READY, so a new session starts from a full picture; RESUME
 * replays what a dropped connection missed, in order.
 */

export const GUILD_ROLE_EVENTS = [
  "GUILD_CREATE",
  "GUILD_UPDATE",
  "GUILD_DELETE",
  "GUILD_ROLE_CREATE",
  "GUILD_ROLE_UPDATE",
  "GUILD_ROLE_DELETE",
] as const satisfies readonly `${GatewayDispatchEvents}`[];
export type GuildRoleEvent = (typeof GUILD_ROLE_EVENTS)[number];

const EVENTS: ReadonlySet<string> = new Set(GUILD_ROLE_EVENTS);
export const isGuildRoleEvent = (name: string): name is GuildRoleEvent => EVENTS.has(name);

const snowflake = z.string().regex(/^\d{1,20}$/, "must be a snowflake");
const permissions = z.string().regex(/^\d{1,40}$/, "must be a permission bit set");
const RoleSchema = z.object({ id: snowflake, permissions });
const GuildSchema = z.object({ id: snowflake, owner_id: snowflake, roles: z.array(RoleSchema) });
const UnavailableGuildSchema = z.object({ id: snowflake, unavailable: z.literal(true) });
const GuildDeleteSchema = z.object({ id: snowflake, unavailable: z.boolean().optional() });
const RoleChangeSchema = z.object({ guild_id: snowflake, role: RoleSchema });
const RoleDeleteSchema = z.object({ guild_id: snowflake, role_id: snowflake });

export type GuildRolesChange =
  /** The whole picture (GUILD_CREATE, GUILD_UPDATE): replaces what was kept. */
  | { kind: "guild"; guildId: string; ownerId: string; roles: Record<string, string> }
  | { kind: "role"; guildId: string; roleId: string; permissions: string }
  | { kind: "role_deleted"; guildId: string; roleId: string }
  /** The bot left or was removed (not an outage, which keeps what is known). */
  | { kind: "guild_removed"; guildId: string };

export type ReadGuildRoles =
  | { outcome: "change"; change: GuildRolesChange }
  | { outcome: "ignored" }
  | { outcome: "malformed"; problem: string };

export function readGuildRolesEvent(name: GuildRoleEvent, data: unknown): ReadGuildRoles {
  switch (name) {
    case "GUILD_CREATE":
    case "GUILD_UPDATE": {
      // An outage: Discord sends the guild again when it is back.
      if (UnavailableGuildSchema.safeParse(data).success) return { outcome: "ignored" };
      const parsed = GuildSchema.safeParse(data);
      if (!parsed.success) return malformed(parsed.error);
      const roles = Object.fromEntries(parsed.data.roles.map((role) => [role.id, role.permissions]));
      return {
        outcome: "change",
        change: { kind: "guild", guildId: parsed.data.id, ownerId: parsed.data.owner_id, roles },
      };
    }
    case "GUILD_DELETE": {
      const parsed = GuildDeleteSchema.safeParse(data);
      if (!parsed.success) return malformed(parsed.error);
      if (parsed.data.unavailable === true) return { outcome: "ignored" };
      return { outcome: "change", change: { kind: "guild_removed", guildId: parsed.data.id } };
    }
    case "GUILD_ROLE_CREATE":
    case "GUILD_ROLE_UPDATE": {
      const parsed = RoleChangeSchema.safeParse(data);
      if (!parsed.success) return malformed(parsed.error);
      const { guild_id: guildId, role } = parsed.data;
      return { outcome: "change", change: { kind: "role", guildId, roleId: role.id, permissions: role.permissions } };
    }
    case "GUILD_ROLE_DELETE": {
      const parsed = RoleDeleteSchema.safeParse(data);
      if (!parsed.success) return malformed(parsed.error);
      return {
        outcome: "change",
        change: { kind: "role_deleted", guildId: parsed.data.guild_id, roleId: parsed.data.role_id },
      };
    }
  }
}

function malformed(error: z.ZodError): ReadGuildRoles {
  const issue = error.issues[0];
  return { outcome: "malformed", problem: issue ? `${issue.path.join(".") || "(data)"}: ${issue.message}` : "invalid" };
}
