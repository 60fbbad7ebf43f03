// SPDX-License-Identifier: Apache-2.0
// Form helpers shared by pages and FormDialog.
import { watch } from 'vue'
import { useI18n } from 'vue-i18n'

/**
 * When the language changes, re-validate only the fields that show an error, so their
 * messages switch language without flagging untouched fields. Use with
 * :validate-on-rule-change="false" on the el-form (rules are computed from i18n).
 */
export function useRevalidateOnLocale(formRef) {
  const { locale } = useI18n()
  // flush 'post': after the re-render, when the el-form has received the new rules.
  watch(
    locale,
    () => {
      const form = formRef.value
      form?.fields?.forEach((f) => {
        if (f.validateState === 'error' && f.prop && !f.error) form.validateField(f.prop).catch(() => {})
      })
    },
    { flush: 'post' },
  )
}
