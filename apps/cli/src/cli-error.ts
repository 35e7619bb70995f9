/**
 * An error the CLI reports as one line on stderr with a specific exit code.
 * Exit codes scripts can rely on: 0 ok, 1 failure (run failed, server error), 2 usage / bad input,
 * 3 not found, 4 cannot reach the API or authentication refused, 130 interrupted.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const ExitCode = Object.freeze({ Ok: 0, Failure: 1, Usage: 2, NotFound: 3, Unreachable: 4, Interrupted: 130 } as const);
