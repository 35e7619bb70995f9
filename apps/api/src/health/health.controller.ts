// GET /health: can this API reach Postgres and Redis right now. Open even with API_KEY set.
import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { PrismaService } from '@fleet/persistence';
import type { RedisConnection } from '@fleet/queue';
import { REDIS } from '../redis/redis.provider.js';
import { HealthDto } from './health.response.js';

/** A check that has not answered within this long counts as down. */
const CHECK_TIMEOUT_MS = 2000;

async function up(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([check().then(() => 'up' as const, () => 'down' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(REDIS) private readonly redis: RedisConnection,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Postgres and Redis reachability' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'Names which one is down' })
  async check(@Res({ passthrough: true }) res: { status(code: number): unknown }): Promise<HealthDto> {
    const [postgres, redis] = await Promise.all([up(() => this.prisma.$queryRaw`SELECT 1`), up(() => this.redis.ping())]);
    const ok = postgres === 'up' && redis === 'up';
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'degraded', postgres, redis };
  }
}
