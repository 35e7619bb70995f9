// :id route parameters: a malformed id is a 400 naming the field, not a 404 or a database error.
import { Injectable, type PipeTransform } from '@nestjs/common';
import { FieldValidationException } from './field-errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class UuidParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw FieldValidationException.of('id', 'id must be a UUID');
    return value.toLowerCase();
  }
}
