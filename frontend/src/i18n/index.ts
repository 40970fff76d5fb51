// vue-i18n setup: zh-CN by default, English on request; the choice is remembered per browser.
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'

export type Messages = typeof zhCN
export const SUPPORTED_LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof SUPPORTED_LOCALES)[number]
export const DEFAULT_LOCALE: AppLocale = 'zh-CN'
/** Only the language preference is stored; never anything about the session. */
export const LOCALE_STORAGE_KEY = 'ds.locale'

export const LOCALE_LABELS: Record<AppLocale, string> = { 'zh-CN': '简体中文', en: 'English' }

export function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value)
}

function storedLocale(): AppLocale {
  try {
    const saved = localStorage.getItem(LOCALE_STORAGE_KEY)
    return isAppLocale(saved) ? saved : DEFAULT_LOCALE
  } catch {
    return DEFAULT_LOCALE
  }
}

export function createAppI18n(locale: AppLocale = storedLocale()) {
  return createI18n<[Messages], AppLocale, false>({
    legacy: false,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages: { 'zh-CN': zhCN, en },
  })
}

export type AppI18n = ReturnType<typeof createAppI18n>

export const i18n = createAppI18n()

/** Switches the language of the whole app, the <html lang> and remembers the choice. */
export function setLocale(locale: AppLocale, target: AppI18n = i18n): void {
  target.global.locale.value = locale
  if (typeof document !== 'undefined') document.documentElement.lang = locale
  try {
    localStorage.setItem(LOCALE_STORAGE_KEY, locale)
  } catch {
    // Private mode or storage disabled: the switch still works for this page.
  }
}
