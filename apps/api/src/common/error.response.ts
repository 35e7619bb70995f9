import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'lr' }) field!: string;
  @ApiProperty({ example: 'lr must not be greater than 10' }) reason!: string;
}

/** Every error response: never a stack trace. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({ example: 'lr must not be greater than 10', description: 'First problem (all of them in errors)' }) message!: string;
  @ApiPropertyOptional({ example: 'lr', description: 'Field of the first problem' }) field?: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] }) errors?: FieldErrorDto[];
}
