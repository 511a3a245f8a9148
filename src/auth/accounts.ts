/**
 * Staff accounts (reviewers, knowledge-base editors, ops, admins) with scrypt-hashed passwords,
 * in the same database as the knowledge base: SQLite under DATA_DIR by default, Postgres when
 * DATABASE_URL is set (table `auth_accounts`). Managed with `npm run accounts` or the admin API.
 */
import { z } from 'zod';
import { STAFF_ROLES, type StaffRole } from '../config.js';
import { openMigrated, type Migration, type SqlDatabase } from '../infra/sql.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { AppError, type ErrorCodeOf } from '../errors.js';

const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'staff accounts',
    sql: `
CREATE TABLE auth_accounts (
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
)`,
  },
  { id: 2, name: 'who created each account', sql: 'ALTER TABLE auth_accounts ADD COLUMN created_by TEXT' },
];

export const AccountName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'account names: 2–64 lower-case letters, digits, ., _ or -');
export const StaffRoles = z
  .array(z.enum(STAFF_ROLES))
  .min(1)
  .transform((r) => [...new Set(r)].sort());

export interface Account {
  name: string;
  roles: StaffRole[];
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** The admin (or `cli`) who created it; null for accounts created before this was recorded. */
  createdBy: string | null;
}

export class AccountError extends AppError {
  declare readonly code: ErrorCodeOf<'account'>;
  constructor(code: ErrorCodeOf<'account'>, message: string) {
    super(code, message, false);
  }
}

type AccountRow = {
  name: string;
  password_hash: string;
  roles: string;
  disabled: number;
  created_at: string;
  updated_at: string;
  created_by: string | null;
};

const toAccount = (r: AccountRow): Account => ({
  name: r.name,
  roles: r.roles.split(',').filter(Boolean) as StaffRole[],
  disabled: Number(r.disabled) === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  createdBy: r.created_by ?? null,
});

/** Checked when a login names an unknown account, so timing does not reveal which names exist. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export class AccountStore {
  private constructor(
    private readonly db: SqlDatabase,
    private readonly reserved: ReadonlySet<string>,
  ) {}

  /**
   * `reservedNames`: the service and staff token names. Accounts and tokens are kept in separate
   * namespaces, so an audit entry or a decision names exactly one identity.
   */
  static async open(options: {
    databaseUrl?: string | undefined;
    sqlitePath: string;
    reservedNames?: readonly string[];
  }): Promise<AccountStore> {
    const db = await openMigrated(options, 'auth', MIGRATIONS);
    return new AccountStore(db, new Set((options.reservedNames ?? []).map((n) => n.toLowerCase())));
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Accounts whose names a service or staff token also uses (configured after the account was made). */
  async clashes(): Promise<string[]> {
    return (await this.list()).map((a) => a.name).filter((n) => this.reserved.has(n));
  }

  async create(name: string, password: string, roles: readonly string[], createdBy: string): Promise<Account> {
    const n = AccountName.safeParse(name);
    const r = StaffRoles.safeParse(roles);
    const problem = passwordProblem(password);
    if (!n.success) throw new AccountError('ACCOUNT_INVALID', n.error.issues[0]!.message);
    if (!r.success) throw new AccountError('ACCOUNT_INVALID', `roles must be some of ${STAFF_ROLES.join(', ')}`);
    if (problem) throw new AccountError('ACCOUNT_INVALID', problem);
    if (this.reserved.has(n.data))
      throw new AccountError(
        'ACCOUNT_INVALID',
        `${n.data} is the name of a service or staff token; accounts and tokens need different names so each audit entry names one identity`,
      );
    const at = new Date().toISOString();
    const hash = await hashPassword(password);
    const inserted = await this.db.run(
      'INSERT INTO auth_accounts (name, password_hash, roles, disabled, created_at, updated_at, created_by) VALUES (?, ?, ?, 0, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
      [n.data, hash, r.data.join(','), at, at, createdBy],
    );
    if (inserted.changes === 0) throw new AccountError('ACCOUNT_EXISTS', `account ${n.data} exists`);
    return { name: n.data, roles: r.data, disabled: false, createdAt: at, updatedAt: at, createdBy };
  }

  async get(name: string): Promise<Account | null> {
    const rows = await this.db.query<AccountRow>('SELECT * FROM auth_accounts WHERE name = ?', [name]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async list(): Promise<Account[]> {
    return (await this.db.query<AccountRow>('SELECT * FROM auth_accounts ORDER BY name')).map(toAccount);
  }

  /** The account when the password is right and the account enabled; null otherwise (same time either way). */
  async verify(name: string, password: string): Promise<Account | null> {
    const rows = await this.db.query<AccountRow>('SELECT * FROM auth_accounts WHERE name = ?', [name.toLowerCase()]);
    const row = rows[0];
    const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
    return ok && row && Number(row.disabled) === 0 ? toAccount(row) : null;
  }

  private async update(name: string, set: string, params: Array<string | number>): Promise<Account> {
    const result = await this.db.run(`UPDATE auth_accounts SET ${set}, updated_at = ? WHERE name = ?`, [
      ...params,
      new Date().toISOString(),
      name,
    ]);
    if (result.changes === 0) throw new AccountError('ACCOUNT_NOT_FOUND', `no account ${name}`);
    return (await this.get(name))!;
  }

  async setPassword(name: string, password: string): Promise<Account> {
    const problem = passwordProblem(password);
    if (problem) throw new AccountError('ACCOUNT_INVALID', problem);
    return this.update(name, 'password_hash = ?', [await hashPassword(password)]);
  }

  async setRoles(name: string, roles: readonly string[]): Promise<Account> {
    const r = StaffRoles.safeParse(roles);
    if (!r.success) throw new AccountError('ACCOUNT_INVALID', `roles must be some of ${STAFF_ROLES.join(', ')}`);
    return this.update(name, 'roles = ?', [r.data.join(',')]);
  }

  async setDisabled(name: string, disabled: boolean): Promise<Account> {
    return this.update(name, 'disabled = ?', [disabled ? 1 : 0]);
  }
}
