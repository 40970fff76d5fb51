// The password policy explained to the user, masked personal data for display, and the small
// formatting rules the security pages share. The server decides; these only explain.

/** Rule names the API returns in weak_password's `rules`. */
export const PASSWORD_RULES = ['min_length', 'char_classes', 'contains_username', 'reused'] as const
export type PasswordRule = (typeof PASSWORD_RULES)[number]

export interface PasswordPolicyNumbers {
  min_length?: number
  min_classes?: number
  history?: number
}

export interface RuleExplanation {
  rule: string
  /** i18n key under security.rules */
  key: string
  params: Record<string, number | string>
}

/** Each broken rule with the i18n key and the policy's number that explains it. */
export function explainRules(rules: readonly string[], policy: PasswordPolicyNumbers = {}): RuleExplanation[] {
  return rules.map((rule): RuleExplanation => {
    switch (rule) {
      case 'min_length':
        return { rule, key: 'security.rules.min_length', params: { n: policy.min_length ?? 12 } }
      case 'char_classes':
        return { rule, key: 'security.rules.char_classes', params: { n: policy.min_classes ?? 3 } }
      case 'contains_username':
        return { rule, key: 'security.rules.contains_username', params: {} }
      case 'reused':
        return { rule, key: 'security.rules.reused', params: { n: policy.history ?? 5 } }
      default:
        return { rule, key: 'security.rules.unknown', params: { rule } }
    }
  })
}

/** Character classes of a password: lower case, upper case, digits, other. */
export function characterClasses(password: string): number {
  let n = 0
  if (/[a-z]/.test(password)) n++
  if (/[A-Z]/.test(password)) n++
  if (/[0-9]/.test(password)) n++
  if (/[^a-zA-Z0-9]/.test(password)) n++
  return n
}

export interface RuleCheck {
  rule: PasswordRule
  /** true met, false broken, null: only the server can tell (history). */
  met: boolean | null
}

/** A live hint while typing; the server's answer (weak_password with `rules`) is what counts. */
export function checkPassword(password: string, username: string, policy: PasswordPolicyNumbers): RuleCheck[] {
  const lower = password.toLowerCase()
  const name = username.trim().toLowerCase()
  return [
    { rule: 'min_length', met: password.length >= (policy.min_length ?? 12) },
    { rule: 'char_classes', met: characterClasses(password) >= (policy.min_classes ?? 3) },
    { rule: 'contains_username', met: !name || !lower.includes(name) },
    { rule: 'reused', met: null },
  ]
}

/** A masked value as the API sends it (138****1234), or a dash when there is none. */
export function displayMasked(value: string | null | undefined): string {
  return value && value.trim() ? value : '—'
}

/** True for what the API masked (it keeps the first and last digits and stars the middle). */
export function isMasked(value: string | null | undefined): boolean {
  return !!value && value.includes('*')
}

/** Keeps only the whole values a user asked to see, by user id (forgotten on leaving the page). */
export function revealedPhone(
  revealed: Readonly<Record<number, string | null>>,
  userId: number,
  masked: string | null | undefined,
): { text: string; whole: boolean } {
  if (userId in revealed) return { text: displayMasked(revealed[userId]), whole: true }
  return { text: displayMasked(masked), whole: false }
}

/** Local date-time as yyyy-MM-dd HH:mm:ss (the format the logs and tables use). */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—'
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

/** Scopes are `resource:read|write`, as the API checks them. */
export const SCOPE_PATTERN = /^[a-z_]+:(read|write)$/

/** Query string of an export link (the browser downloads it with the session cookie). */
export function exportHref(path: string, query: Record<string, unknown>, format: 'csv' | 'xlsx'): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === '' || value === null || value === undefined) continue
    if (Array.isArray(value)) value.forEach((v) => params.append(key, String(v)))
    else params.append(key, String(value))
  }
  params.set('format', format)
  return `${path}?${params.toString()}`
}
