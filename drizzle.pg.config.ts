import { defineConfig } from 'drizzle-kit';

// The PostgreSQL engine's schema and migrations (`npm run db:generate:pg`); SQLite's are in drizzle.config.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/pg/schema.ts',
  out: './migrations-pg',
});
