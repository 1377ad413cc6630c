/** What the tasks store refuses (both engines), for the service to put in words. */

/**
 * An edit would move an occurrence of a repeating series onto the date of another occurrence of
 * it (one per series and day: the unique index `tasks_series_due_uq`). Nothing was changed.
 */
export class SeriesDateTakenError extends Error {
  constructor(readonly dueDate: string) {
    super(`another occurrence of the series is due on ${dueDate}`);
  }
}
