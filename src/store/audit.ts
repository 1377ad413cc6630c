import { auditLog } from './schema.js';
import type { Tx } from './db.js';

export interface AuditEntry {
  teamId: string;
  actorId: string;
  entity: 'task' | 'approval';
  entityId: number;
  action: string;
  detail?: Record<string, unknown>;
}

/** Appends an audit row inside the caller's transaction, so the change and its record commit together. */
export function appendAudit(tx: Tx, entry: AuditEntry): void {
  tx.insert(auditLog)
    .values({ ...entry, detail: entry.detail ? JSON.stringify(entry.detail) : null })
    .run();
}
