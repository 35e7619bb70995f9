import { isTransientDbError, retryUntilDone } from './retry.js';

describe('retryUntilDone', () => {
  it('retries until the write lands, reporting each failed attempt', async () => {
    let calls = 0;
    const retries: number[] = [];
    const value = await retryUntilDone(
      async () => {
        calls++;
        if (calls < 3) throw new Error('connection refused');
        return 'stored';
      },
      { initialDelayMs: 1, onRetry: (attempt) => retries.push(attempt) },
    );
    expect(value).toBe('stored');
    expect(retries).toEqual([1, 2]);
  });

  it('rethrows at once an error that cannot pass by itself', async () => {
    let calls = 0;
    const fk = Object.assign(new Error('Foreign key constraint violated'), { code: 'P2003' });
    await expect(
      retryUntilDone(
        async () => {
          calls++;
          throw fk;
        },
        { initialDelayMs: 1, shouldRetry: isTransientDbError },
      ),
    ).rejects.toBe(fk);
    expect(calls).toBe(1);
  });

  it('stops retrying once aborted', async () => {
    const controller = new AbortController();
    const run = retryUntilDone(
      async () => {
        controller.abort();
        throw new Error('down');
      },
      { initialDelayMs: 10_000, signal: controller.signal },
    );
    await expect(run).rejects.toThrow('down');
  });
});

describe('isTransientDbError', () => {
  it.each([
    [{ code: 'P2003' }, false],
    [{ code: 'P2025' }, false],
    [{ code: 'P2024' }, true],
    [{ code: 'P2034' }, true],
    [{ code: 'ECONNREFUSED' }, true],
    [new Error('Connection terminated unexpectedly'), true],
    // Raw statements: P2010 carries the adapter's error kind (what `$executeRaw` threw while the
    // server was away in faults-postgres-restart) or the server's SQLSTATE.
    [{ code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 } } } }, true],
    [{ code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } } } }, true],
    [{ code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'ForeignKeyConstraintViolation' } } } }, false],
    [{ code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'postgres', originalCode: '57P03' } } } }, true],
    [{ code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'postgres', originalCode: '23503' } } } }, false],
  ])('%j -> %s', (err, transient) => {
    expect(isTransientDbError(err)).toBe(transient);
  });
});
