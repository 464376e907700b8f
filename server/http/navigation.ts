import type { Role } from '../accounts/entities';

export interface NavItem {
  href: string;
  label: string;
  roles: readonly Role[] | 'all';
}

/** The main navigation; each item shows only to the roles that may open it. */
export const NAVIGATION: NavItem[] = [
  { href: '/', label: 'Dashboard', roles: 'all' },
  { href: '/vendors', label: 'Vendors', roles: 'all' },
  { href: '/questionnaires', label: 'Questionnaires', roles: 'all' },
  { href: '/findings', label: 'Findings', roles: 'all' },
  { href: '/contracts', label: 'Contracts', roles: 'all' },
  { href: '/certifications', label: 'Certifications', roles: 'all' },
  { href: '/reminders', label: 'Upcoming', roles: 'all' },
  { href: '/reports', label: 'Reports', roles: 'all' },
  { href: '/admin/templates', label: 'Templates', roles: ['admin', 'procurement', 'reviewer', 'viewer'] },
  { href: '/admin/users', label: 'Users', roles: ['admin'] },
  { href: '/admin/audit', label: 'Audit log', roles: ['admin', 'viewer'] },
  { href: '/admin/outbox', label: 'Outbox', roles: ['admin'] },
  { href: '/admin/reminders', label: 'Reminders', roles: ['admin'] },
];

/** The items a role sees, marking the one the path belongs to. */
export function navigationFor(role: Role, path: string): (NavItem & { current: boolean })[] {
  return NAVIGATION.filter((i) => i.roles === 'all' || i.roles.includes(role)).map((i) => ({
    ...i,
    current: i.href === '/' ? path === '/' : path === i.href || path.startsWith(`${i.href}/`),
  }));
}
