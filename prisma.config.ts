import { defineConfig } from 'prisma/config'

// Prisma 7 reads the datasource URL here, not from schema.prisma. Migrations are applied by the
// project's own runner (src/db/migrate.ts), since the CLI's schema engine cannot be fetched offline.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  datasource: { url: process.env.DATABASE_URL ?? 'file:./data/ringhook.db' },
})
