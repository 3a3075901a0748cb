/**
 * The Discord permission bits this product reads ("Permissions" page of
 * Discord's documentation). Its own module, free of imports, so the command
 * registration script can use it without the domain.
 */
export const PERMISSION = { ADMINISTRATOR: 0x8n, MANAGE_GUILD: 0x20n } as const;
