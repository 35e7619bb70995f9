// One error shape for every response, and never a stack trace: HttpExceptions keep their status and
// message; anything else is logged here and answered with a bare 500.
import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
  errors?: { field: string; reason: string }[];
}

interface ReplyLike {
  headersSent: boolean;
  status(code: number): ReplyLike;
  json(body: unknown): void;
  end(): void;
}

function toBody(exception: HttpException): ErrorBody {
  const status = exception.getStatus();
  const error = STATUS_CODES[status] ?? 'Error';
  const response = exception.getResponse();
  if (typeof response === 'string') return { statusCode: status, error, message: response };
  const r = response as Partial<Record<'message' | 'field' | 'errors' | 'error', unknown>>;
  const message = Array.isArray(r.message) ? r.message.map(String).join('; ') : typeof r.message === 'string' ? r.message : exception.message;
  const body: ErrorBody = { statusCode: status, error, message };
  if (typeof r.field === 'string') body.field = r.field;
  if (Array.isArray(r.errors)) body.errors = r.errors as ErrorBody['errors'];
  return body;
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ReplyLike>();
    let body: ErrorBody;
    if (exception instanceof HttpException) {
      body = toBody(exception);
      if (body.statusCode >= 500) this.logger.error(`${body.statusCode}: ${body.message}`);
    } else {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
      body = { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: 'Internal Server Error', message: 'internal error' };
    }
    // A streaming response (SSE) has already sent its headers; all that is left is to end it.
    if (res.headersSent) return res.end();
    res.status(body.statusCode).json(body);
  }
}
