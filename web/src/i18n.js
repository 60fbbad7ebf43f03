// SPDX-License-Identifier: Apache-2.0
// vue-i18n set-up: zh-CN by default, the user's choice remembered in localStorage.
import { computed } from 'vue'
import { createI18n } from 'vue-i18n'
import elZhCn from 'element-plus/es/locale/lang/zh-cn'
import elEn from 'element-plus/es/locale/lang/en'
import zhCN from './locales/zh-CN.json'
import en from './locales/en.json'

export const LOCALES = ['zh-CN', 'en']
export const DEFAULT_LOCALE = 'zh-CN'
const STORAGE_KEY = 'crm.locale'

// Element Plus ships its own strings (pagination, date pickers, empty tables...).
const elementLocales = { 'zh-CN': elZhCn, en: elEn }

function readStoredLocale() {
  try {
    const v = localStorage.getItem(STORAGE_KEY)
    return LOCALES.includes(v) ? v : DEFAULT_LOCALE
  } catch {
    return DEFAULT_LOCALE
  }
}

export const i18n = createI18n({
  legacy: false,
  globalInjection: true,
  locale: readStoredLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages: { 'zh-CN': zhCN, en },
})

/** The Element Plus locale object that follows the current UI language. */
export const elementLocale = computed(() => elementLocales[i18n.global.locale.value])

/** Switch the UI language, remember it and tell the browser (lang attribute, title). */
export function setLocale(locale) {
  if (!LOCALES.includes(locale)) return
  i18n.global.locale.value = locale
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.setAttribute('lang', locale)
}

/** Shorthand for code outside components (API client, router). */
export const t = (...args) => i18n.global.t(...args)

document.documentElement.setAttribute('lang', i18n.global.locale.value)
