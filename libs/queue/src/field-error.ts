/** One problem with one field: what the API returns in 400 bodies and the worker puts in errors. */
export interface FieldError {
  field: string;
  reason: string;
}
