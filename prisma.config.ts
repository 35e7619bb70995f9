// Used by the Prisma CLI (`npx prisma migrate deploy`, `npx prisma studio`) on machines that can
// download Prisma's schema engine. `npm run db:migrate` / `db:generate` do not need it.
import { defineConfig, env } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: env('DATABASE_URL') },
});
