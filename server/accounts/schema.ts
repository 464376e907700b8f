import { z } from 'zod';
import { email, text } from '../http/forms';
import { ROLES } from './entities';
import { MAX_PASSWORD_LENGTH } from './passwords';

const password = (label: string) =>
  z
    .string({ error: `${label} is required.` })
    .min(1, `${label} is required.`)
    .max(MAX_PASSWORD_LENGTH, `${label} must be at most ${MAX_PASSWORD_LENGTH} characters.`);

const role = z.enum(ROLES, { error: `Role must be one of: ${ROLES.join(', ')}.` });

export const loginSchema = z.object({
  email: z.string({ error: 'Email is required.' }).trim().min(1, 'Email is required.').max(254, 'Email is too long.'),
  password: password('Password'),
  returnTo: z.string().max(500).optional(),
});

export const setupSchema = z
  .object({ name: text('Name', 200), email: email(), password: password('Password'), confirmPassword: z.string().max(MAX_PASSWORD_LENGTH).default('') })
  .refine((v) => v.password === v.confirmPassword, { path: ['confirmPassword'], message: 'The two passwords differ.' });

export const setPasswordSchema = z
  .object({ password: password('Password'), confirmPassword: z.string().max(MAX_PASSWORD_LENGTH).default('') })
  .refine((v) => v.password === v.confirmPassword, { path: ['confirmPassword'], message: 'The two passwords differ.' });

export const changePasswordSchema = z
  .object({
    currentPassword: password('Current password'),
    newPassword: password('New password'),
    confirmPassword: z.string().max(MAX_PASSWORD_LENGTH).default(''),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { path: ['confirmPassword'], message: 'The two passwords differ.' });

export const inviteSchema = z.object({ name: text('Name', 200), email: email(), role });

export const updateUserSchema = z.object({ name: text('Name', 200), role });

export const apiTokenSchema = z.object({ name: text('Name', 100) });
