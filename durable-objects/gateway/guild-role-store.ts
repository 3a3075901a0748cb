import { basePermissions, type GuildRoles } from "../../shared/discord/permissions";
import type { GuildRolesChange } from "../../shared/gateway/guild-roles";

/**
 * Each guild's owner and role permissions as the Gateway last described them
 * (GUILD_CREATE after every READY, then GUILD_UPDATE and GUILD_ROLE_*), one
 * row per guild in the object's SQLite, written in the step that reads the
 * event. A channel message carries only its author's role ids; this is what
 * turns them into admin rights.
 */
export class GuildRoleStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      "create table if not exists guild_roles (guild_id text primary key, owner_id text not null, roles text not null, updated_at integer not null)",
    );
  }

  apply(change: GuildRolesChange, now: number): void {
    switch (change.kind) {
      case "guild":
        this.save(change.guildId, { ownerId: change.ownerId, permissions: change.roles }, now);
        return;
      case "role":
      case "role_deleted": {
        const known = this.get(change.guildId);
        // A role event for a guild never described (its GUILD_CREATE is still to come) waits for that picture.
        if (!known) return;
        const permissions = { ...known.permissions };
        if (change.kind === "role") permissions[change.roleId] = change.permissions;
        else delete permissions[change.roleId];
        this.save(change.guildId, { ownerId: known.ownerId, permissions }, now);
        return;
      }
      case "guild_removed":
        this.sql.exec("delete from guild_roles where guild_id = ?", change.guildId);
        return;
    }
  }

  /** The member's guild permissions (a decimal bit set); null while the guild's roles are not known. */
  permissionsOf(guildId: string, userId: string, roleIds: readonly string[]): string | null {
    const guild = this.get(guildId);
    return guild ? basePermissions(guild, guildId, userId, roleIds) : null;
  }

  get(guildId: string): GuildRoles | null {
    const row = this.sql
      .exec<{ owner_id: string; roles: string }>("select owner_id, roles from guild_roles where guild_id = ?", guildId)
      .toArray()[0];
    return row ? { ownerId: row.owner_id, permissions: JSON.parse(row.roles) as Record<string, string> } : null;
  }

  private save(guildId: string, guild: GuildRoles, now: number): void {
    this.sql.exec(
      `insert into guild_roles (guild_id, owner_id, roles, updated_at) values (?, ?, ?, ?)
       on conflict(guild_id) do update set owner_id = excluded.owner_id, roles = excluded.roles, updated_at = excluded.updated_at`,
      guildId,
      guild.ownerId,
      JSON.stringify(guild.permissions),
      now,
    );
  }
}
