import { SessionRecord, User, UserToken } from '../accounts/entities';
import { AuditEntry } from '../audit/entities';
import { OutboxMessage } from '../mail/entities';

/** Every entity the DataSource knows; a feature adds its own here. */
export const ENTITIES = [User, UserToken, SessionRecord, AuditEntry, OutboxMessage];
