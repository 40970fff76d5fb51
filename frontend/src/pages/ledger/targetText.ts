// Targets as people read them: 每月至少8次, 每个社区每月至少8次, 每月7日前, 9月, 5分钟内回复.
import type { components } from '@/api/schema'

export type TargetSpec = components['schemas']['TargetSpec']
type Translate = (key: string, named?: Record<string, unknown>) => string

function minCount(t: Translate, target: TargetSpec): string {
  const period = t(`ledger.targets.period.${target.period ?? 'month'}`)
  return t('ledger.targets.minCount', { period, count: target.count ?? 1 })
}

/** What the unit must do, without who ("每月至少8次"). */
function duty(t: Translate, target: TargetSpec): string {
  const count = target.count ?? 1
  switch (target.kind) {
    case 'min_count':
      return minCount(t, target)
    case 'due_day':
      return count > 1
        ? t('ledger.targets.dueDayCount', { day: target.due_day, count })
        : t('ledger.targets.dueDay', { day: target.due_day })
    case 'month_required':
      return count > 1
        ? t('ledger.targets.monthRequiredCount', { month: target.month, count })
        : t('ledger.targets.monthRequired', { month: target.month })
    case 'response_time':
      return t('ledger.targets.responseTime', { minutes: target.max_minutes })
    default:
      return target.label ?? ''
  }
}

/** The whole target: for the unit itself, or for each sub-unit ("每个社区每月至少8次"). */
export function describeTarget(t: Translate, target: TargetSpec): string {
  const rest = duty(t, target)
  if (target.scope !== 'each_child') return rest
  const level = target.child_level ? t(`ledger.units.levels.${target.child_level}`) : t('ledger.targets.childFallback')
  return t('ledger.targets.eachChild', { level, rest })
}
