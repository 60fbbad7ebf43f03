// SPDX-License-Identifier: Apache-2.0
// Form helpers shared by pages and FormDialog.
import { watch } from 'vue'
import { ElMessageBox } from 'element-plus'
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

/**
 * A server message under a field goes away once that field is changed: 'errors' is a ref of
 * {field: message}, 'source' a getter of the form's values by field name.
 */
export function useClearErrorsOnChange(errors, source) {
  watch(source, (now, before) => {
    const changed = Object.keys(errors.value).filter((k) => now[k] !== before[k])
    if (!changed.length) return
    const rest = { ...errors.value }
    changed.forEach((k) => delete rest[k])
    errors.value = rest
  })
}

/** Asks "are you sure" with 'message' (a warning, the buttons in the user's language): true when confirmed. */
export async function confirmWarning(t, message) {
  try {
    await ElMessageBox.confirm(message, t('common.tip'), {
      type: 'warning',
      confirmButtonText: t('common.confirm'),
      cancelButtonText: t('common.cancel'),
    })
    return true
  } catch {
    return false
  }
}
