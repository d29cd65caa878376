/** A session with the business database, whichever way it is reached: the only boundary callers see. */
export type Db = {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>
  /**
   * One statement through the extended protocol (the unnamed prepared statement, so Postgres
   * refuses a text holding several, and nothing stays in the session). Throws the driver's own error (SQLSTATE `code`, `position`) for the
   * caller to report; rows as arrays, values parsed by `types`.
   */
  single(text: string, types?: { getTypeParser: (oid: number) => (value: string) => unknown }): Promise<{ rows: unknown[][]; fields: { name: string; dataTypeID: number }[] }>
  /** The raw driver result of a multi-statement text (simple protocol; our own SQL only). */
  batch(text: string): Promise<unknown>
  end(): Promise<void>
}
