// 400 responses that name the field: every validation problem in the API goes through
// FieldValidationException so clients see one shape, {statusCode, error, message, field, errors}.
import { BadRequestException, HttpStatus } from '@nestjs/common';
import { flattenValidationErrors, type FieldError } from '@fleet/queue';
import type { ValidationError } from 'class-validator';

export class FieldValidationException extends BadRequestException {
  constructor(readonly errors: FieldError[]) {
    super({ statusCode: HttpStatus.BAD_REQUEST, error: 'Bad Request', message: errors[0]?.reason ?? 'invalid request', field: errors[0]?.field, errors });
  }

  static of(field: string, reason: string): FieldValidationException {
    return new FieldValidationException([{ field, reason }]);
  }
}

/** exceptionFactory of the global ValidationPipe. */
export function validationExceptionFactory(errors: ValidationError[]): FieldValidationException {
  const flat = flattenValidationErrors(errors);
  return new FieldValidationException(flat.length > 0 ? flat : [{ field: 'body', reason: 'request body must be a JSON object' }]);
}
