// The 等保 notice shown right after login (上次登录时间 and the failed attempts since, what is
// due). Loaded on demand so the login page stays small.
import type { Composer } from 'vue-i18n'
import type { LoginNotices } from '@/stores/securityTypes'
import { summariseNotices } from '@/stores/securityLogin'
import { formatDateTime } from '@/stores/securityRules'

type Translate = Composer['t']

export function noticeLines(t: Translate, notices: LoginNotices): { lines: string[]; type: 'info' | 'warning' } {
  const s = summariseNotices(notices)
  const lines: string[] = []
  if (s.firstLogin) lines.push(t('security.notice.firstLogin'))
  else lines.push(t('security.notice.previous', { at: formatDateTime(s.previousAt), ip: s.previousIp ?? t('security.notice.unknownIp') }))
  lines.push(s.failedSince > 0 ? t('security.notice.failedSince', { n: s.failedSince }) : t('security.notice.noFailures'))
  if (s.passwordExpired) lines.push(t('security.notice.passwordExpired'))
  else if (s.passwordChangeRequired) lines.push(t('security.notice.passwordChangeRequired'))
  if (s.mfaEnrolmentRequired)
    lines.push(
      s.mfaDeadline
        ? t('security.notice.mfaEnrolmentBy', { at: formatDateTime(s.mfaDeadline) })
        : t('security.notice.mfaEnrolment'),
    )
  return { lines, type: s.type }
}

export function showLoginNotice(t: Translate, notices: LoginNotices): void {
  const { lines, type } = noticeLines(t, notices)
  ElNotification({
    title: t('security.notice.title'),
    message: lines.join('\n'),
    type,
    duration: 15000,
    customClass: 'login-notice',
    // Bottom right: never over the header's role switch, language and logout.
    position: 'bottom-right',
  })
}

/** Closes notices left from an earlier session (on the login page). */
export function closeLoginNotices(): void {
  ElNotification.closeAll()
}
