import type { AuditEntry } from '../audit.js';
import type { PgQueries } from './db.js';
import { auditLog } from './schema.js';

/**
 * Appends an audit row, as ../audit.ts does on SQLite. Called with the caller's transaction, so
 * the change and its record commit together.
 */
export async function appendAuditPg(tx: PgQueries, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    teamId: entry.teamId,
    actorId: entry.actorId,
    entity: entry.entity,
    entityId: entry.entityId,
    action: entry.action,
    detail: entry.detail ? JSON.stringify(entry.detail) : null,
  });
}
