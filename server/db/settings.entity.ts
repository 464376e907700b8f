import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './columns';

/** Small facts the portal keeps about itself (for example, which reassessment intervals dates were computed with). */
@Entity('app_settings')
export class AppSetting {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  key!: string;

  @Column({ type: 'text' })
  value!: string;

  @TimestampColumn()
  updatedAt!: Date;
}
