import { sql } from 'drizzle-orm';
import { auditLog } from './schema.js';
import type { Store } from './db.js';

export interface AuditEntry {
  teamId: string;
  actorId: string;
  entity: 'task' | 'approval';
  entityId: number;
  action: string;
  detail?: Record<string, unknown>;
}

/**
 * Appends an audit row. Called inside the caller's `store.write` transaction (one connection),
 * so the change and its record commit together.
 */
export function appendAudit(store: Pick<Store, 'prepared'>, entry: AuditEntry): void {
  store
    .prepared('audit.append', (db) =>
      db
        .insert(auditLog)
        .values({
          teamId: sql.placeholder('teamId'),
          actorId: sql.placeholder('actorId'),
          entity: sql.placeholder('entity'),
          entityId: sql.placeholder('entityId'),
          action: sql.placeholder('action'),
          detail: sql.placeholder('detail'),
        })
        .prepare(),
    )
    .run({ ...entry, detail: entry.detail ? JSON.stringify(entry.detail) : null });
}
