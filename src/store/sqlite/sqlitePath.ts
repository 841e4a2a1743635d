import path from 'node:path'

/** `file:./data/x.db` or `file:/abs/x.db` -> an absolute file path (relative paths are from the working directory). */
export function sqliteFilePath(databaseUrl: string): string {
  const rest = databaseUrl.replace(/^file:/, '').replace(/\?.*$/, '')
  return path.resolve(rest)
}
