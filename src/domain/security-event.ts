import { z } from 'zod';
import { ActorType } from './review.js';

/** Security events: who signed in or failed to, and who changed accounts or was refused. */
export const SECURITY_EVENTS = [
  'sign_in',
  /** Wrong name or password, or a disabled account (the log says which name was tried, never the password). */
  'sign_in_failed',
  'sign_in_rate_limited',
  'sign_out',
  'account_created',
  /** Roles, disabled flag or password changed (which ones, never the password). */
  'account_changed',
  /** An authenticated caller asked for something its roles do not allow. */
  'access_denied',
] as const;
export const SecurityEventName = z.enum(SECURITY_EVENTS);
export type SecurityEventName = z.infer<typeof SecurityEventName>;

/** One entry of the security log. No patient data; `address` is the client address as the API saw it. */
export const SecurityEvent = z.object({
  id: z.string(),
  event: SecurityEventName,
  /** The account or token name acted as, or the name tried at a failed sign-in. */
  actor: z.string(),
  actorType: ActorType.optional(),
  at: z.string(),
  address: z.string().nullable(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  seq: z.number().int().positive(),
  hash: z.string(),
});
export type SecurityEvent = z.infer<typeof SecurityEvent>;
export type SecurityEntry = Omit<SecurityEvent, 'id' | 'at' | 'seq' | 'hash'> & { at?: string };
