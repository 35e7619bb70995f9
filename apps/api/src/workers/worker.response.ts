import { ApiProperty } from '@nestjs/swagger';

export class WorkerDto {
  @ApiProperty() id!: string;
  @ApiProperty() host!: string;
  @ApiProperty() pid!: number;
  @ApiProperty({ type: Number, nullable: true }) gpu!: number | null;
  @ApiProperty() backend!: string;
  @ApiProperty({ type: String, nullable: true }) backendInfo!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) currentExperimentId!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'Last heartbeat' }) lastSeenAt!: string;
}

export class WorkerListDto {
  @ApiProperty({ type: [WorkerDto] }) items!: WorkerDto[];
}
